//! Airports and the cities they serve.
//!
//! Dependencies between items are inferred by place ("the hotel in Paris depends on the flight that
//! lands in Paris"), so every offer carries a metropolitan city code and every airport maps to one.
//! Providers speak IATA codes, so that is what we key on.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A place code or name that is not in the table.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlaceError {
    #[error(
        "unknown airport code '{0}': use a three-letter IATA airport code such as LHR, JFK, CDG or HND"
    )]
    UnknownAirport(String),
    #[error(
        "unknown city '{0}': use a city name such as Paris or Tokyo, or its IATA code such as PAR or TYO"
    )]
    UnknownCity(String),
}

/// An airport, with the metropolitan city it serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Airport {
    pub code: &'static str,
    pub name: &'static str,
    pub city: City,
}

/// A metropolitan area, by IATA city code.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct City {
    pub code: &'static str,
    pub name: &'static str,
    pub country: &'static str,
    /// Its centre, for providers that search around a point (Duffel Stays).
    pub centre: Centre,
}

/// A point on the map in ten-thousandths of a degree (about 11 m): whole numbers, so a city
/// stays comparable and hashable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Centre {
    latitude_e4: i32,
    longitude_e4: i32,
}

impl Centre {
    /// Latitude in decimal degrees (WGS 84), north positive.
    pub fn latitude(&self) -> f64 {
        f64::from(self.latitude_e4) / 10_000.0
    }

    /// Longitude in decimal degrees (WGS 84), east positive.
    pub fn longitude(&self) -> f64 {
        f64::from(self.longitude_e4) / 10_000.0
    }
}

macro_rules! cities {
    ($($ident:ident = $code:literal, $name:literal, $country:literal, $lat:literal, $lon:literal;)*) => {
        $(const $ident: City = City {
            code: $code,
            name: $name,
            country: $country,
            centre: Centre { latitude_e4: $lat, longitude_e4: $lon },
        };)*
        const CITIES: &[City] = &[$($ident),*];
    };
}

cities! {
    AMS = "AMS", "Amsterdam", "NL", 523676, 49041;
    BCN = "BCN", "Barcelona", "ES", 413874, 21686;
    BER = "BER", "Berlin", "DE", 525200, 134050;
    BJS = "BJS", "Beijing", "CN", 399042, 1164074;
    BKK = "BKK", "Bangkok", "TH", 137563, 1005018;
    CHI = "CHI", "Chicago", "US", 418781, -876298;
    DXB = "DXB", "Dubai", "AE", 252048, 552708;
    FRA = "FRA", "Frankfurt", "DE", 501109, 86821;
    HKG = "HKG", "Hong Kong", "HK", 223193, 1141694;
    IST = "IST", "Istanbul", "TR", 410082, 289784;
    LAX = "LAX", "Los Angeles", "US", 340522, -1182437;
    LIS = "LIS", "Lisbon", "PT", 387223, -91393;
    LON = "LON", "London", "GB", 515074, -1278;
    MAD = "MAD", "Madrid", "ES", 404168, -37038;
    MIL = "MIL", "Milan", "IT", 454642, 91900;
    NYC = "NYC", "New York", "US", 407128, -740060;
    OSA = "OSA", "Osaka", "JP", 346937, 1355023;
    PAR = "PAR", "Paris", "FR", 488566, 23522;
    ROM = "ROM", "Rome", "IT", 419028, 124964;
    SEL = "SEL", "Seoul", "KR", 375665, 1269780;
    SFO = "SFO", "San Francisco", "US", 377749, -1224194;
    SHA = "SHA", "Shanghai", "CN", 312304, 1214737;
    SIN = "SIN", "Singapore", "SG", 13521, 1038198;
    SYD = "SYD", "Sydney", "AU", -338688, 1512093;
    TYO = "TYO", "Tokyo", "JP", 356762, 1396503;
    YTO = "YTO", "Toronto", "CA", 436532, -793832;
    ZRH = "ZRH", "Zurich", "CH", 473769, 85417;
}

const AIRPORTS: &[Airport] = &[
    Airport {
        code: "AMS",
        name: "Amsterdam Schiphol",
        city: AMS,
    },
    Airport {
        code: "BCN",
        name: "Barcelona El Prat",
        city: BCN,
    },
    Airport {
        code: "BER",
        name: "Berlin Brandenburg",
        city: BER,
    },
    Airport {
        code: "PEK",
        name: "Beijing Capital",
        city: BJS,
    },
    Airport {
        code: "PKX",
        name: "Beijing Daxing",
        city: BJS,
    },
    Airport {
        code: "BKK",
        name: "Bangkok Suvarnabhumi",
        city: BKK,
    },
    Airport {
        code: "ORD",
        name: "Chicago O'Hare",
        city: CHI,
    },
    Airport {
        code: "DXB",
        name: "Dubai International",
        city: DXB,
    },
    Airport {
        code: "FRA",
        name: "Frankfurt am Main",
        city: FRA,
    },
    Airport {
        code: "HKG",
        name: "Hong Kong International",
        city: HKG,
    },
    Airport {
        code: "IST",
        name: "Istanbul Airport",
        city: IST,
    },
    Airport {
        code: "LAX",
        name: "Los Angeles International",
        city: LAX,
    },
    Airport {
        code: "LIS",
        name: "Lisbon Humberto Delgado",
        city: LIS,
    },
    Airport {
        code: "LHR",
        name: "London Heathrow",
        city: LON,
    },
    Airport {
        code: "LGW",
        name: "London Gatwick",
        city: LON,
    },
    Airport {
        code: "MAD",
        name: "Madrid Barajas",
        city: MAD,
    },
    Airport {
        code: "MXP",
        name: "Milan Malpensa",
        city: MIL,
    },
    Airport {
        code: "JFK",
        name: "New York John F. Kennedy",
        city: NYC,
    },
    Airport {
        code: "EWR",
        name: "Newark Liberty",
        city: NYC,
    },
    Airport {
        code: "KIX",
        name: "Osaka Kansai",
        city: OSA,
    },
    Airport {
        code: "CDG",
        name: "Paris Charles de Gaulle",
        city: PAR,
    },
    Airport {
        code: "ORY",
        name: "Paris Orly",
        city: PAR,
    },
    Airport {
        code: "FCO",
        name: "Rome Fiumicino",
        city: ROM,
    },
    Airport {
        code: "ICN",
        name: "Seoul Incheon",
        city: SEL,
    },
    Airport {
        code: "SFO",
        name: "San Francisco International",
        city: SFO,
    },
    Airport {
        code: "PVG",
        name: "Shanghai Pudong",
        city: SHA,
    },
    Airport {
        code: "SIN",
        name: "Singapore Changi",
        city: SIN,
    },
    Airport {
        code: "SYD",
        name: "Sydney Kingsford Smith",
        city: SYD,
    },
    Airport {
        code: "HND",
        name: "Tokyo Haneda",
        city: TYO,
    },
    Airport {
        code: "NRT",
        name: "Tokyo Narita",
        city: TYO,
    },
    Airport {
        code: "YYZ",
        name: "Toronto Pearson",
        city: YTO,
    },
    Airport {
        code: "ZRH",
        name: "Zurich Airport",
        city: ZRH,
    },
];

impl Airport {
    /// Finds an airport by its IATA code (case-insensitive).
    pub fn parse(code: &str) -> Result<Airport, PlaceError> {
        let wanted = code.trim();
        AIRPORTS
            .iter()
            .find(|airport| airport.code.eq_ignore_ascii_case(wanted))
            .copied()
            .ok_or_else(|| PlaceError::UnknownAirport(truncated(code)))
    }
}

impl City {
    /// Finds a city by IATA city code, by name, or by one of its airports' codes.
    pub fn parse(name_or_code: &str) -> Result<City, PlaceError> {
        let wanted = name_or_code.trim();
        CITIES
            .iter()
            .find(|city| {
                city.code.eq_ignore_ascii_case(wanted) || city.name.eq_ignore_ascii_case(wanted)
            })
            .copied()
            .or_else(|| Airport::parse(wanted).ok().map(|airport| airport.city))
            .ok_or_else(|| PlaceError::UnknownCity(truncated(name_or_code)))
    }

    /// Airports that serve this city, for the sandbox to pick from.
    pub fn airports(&self) -> impl Iterator<Item = &'static Airport> + '_ {
        AIRPORTS.iter().filter(move |airport| airport.city == *self)
    }
}

fn truncated(value: &str) -> String {
    value.chars().take(40).collect()
}

impl fmt::Debug for City {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code)
    }
}

impl fmt::Display for City {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name, self.code)
    }
}

impl Serialize for City {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code)
    }
}

impl<'de> Deserialize<'de> for City {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = String::deserialize(deserializer)?;
        City::parse(&code).map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for City {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "CityCode".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "IATA metropolitan city code, e.g. PAR, LON, NYC, TYO"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn airports_map_to_their_city() {
        assert_eq!(Airport::parse("cdg").unwrap().city.name, "Paris");
        assert_eq!(City::parse("ORY").unwrap().code, "PAR");
        assert_eq!(City::parse("tokyo").unwrap().code, "TYO");
        assert_eq!(City::parse("LON").unwrap().airports().count(), 2);
    }

    #[test]
    fn unknown_places_say_what_to_use() {
        let err = Airport::parse("XQZ").unwrap_err().to_string();
        assert!(err.contains("unknown airport code 'XQZ'"), "{err}");
        assert!(City::parse("Atlantis").is_err());
    }
}
