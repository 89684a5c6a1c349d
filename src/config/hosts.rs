//! Where each provider's API is in each mode: its test host in sandbox mode, its production
//! host in live mode. An address the operator gives (a proxy, or a local fake in tests) is taken
//! as given, unless it is the other mode's host: a sandbox run never reaches production, and a
//! live run never books at a test host where nothing is real.

use super::{ConfigError, Mode};

/// A provider's API in both modes. The first address of each list is the default; the others
/// are the same API under another name.
pub(super) struct Hosts {
    pub provider: &'static str,
    pub variable: &'static str,
    pub test: &'static [&'static str],
    pub live: &'static [&'static str],
}

pub(super) const AMADEUS: Hosts = Hosts {
    provider: "Amadeus",
    variable: "ITINERA_AMADEUS_BASE_URL",
    test: &["https://test.api.amadeus.com"],
    live: &["https://api.amadeus.com"],
};

pub(super) const BOOKING_COM: Hosts = Hosts {
    provider: "Booking.com",
    variable: "ITINERA_BOOKINGCOM_BASE_URL",
    test: &["https://demandapi-sandbox.booking.com/3.1"],
    live: &["https://demandapi.booking.com/3.1"],
};

/// ABG documents only its staging gateway; the production address comes with the production
/// credentials ABG issues, so live mode needs it given (see `Settings::avis`). The address its
/// production gateway answers on is listed so that sandbox mode never reaches it.
pub(super) const AVIS: Hosts = Hosts {
    provider: "Avis",
    variable: "ITINERA_AVIS_BASE_URL",
    test: &["https://stage.abgapiservices.com"],
    live: &["https://api.abgapiservices.com"],
};

pub(super) const VIATOR: Hosts = Hosts {
    provider: "Viator",
    variable: "ITINERA_VIATOR_BASE_URL",
    test: &["https://api.sandbox.viator.com/partner"],
    live: &["https://api.viator.com/partner"],
};

pub(super) const GETYOURGUIDE: Hosts = Hosts {
    provider: "GetYourGuide",
    variable: "ITINERA_GETYOURGUIDE_BASE_URL",
    test: &["https://api.gygtest.net"],
    live: &["https://api.getyourguide.com"],
};

pub(super) const PAYPAL: Hosts = Hosts {
    provider: "PayPal",
    variable: "ITINERA_PAYPAL_BASE_URL",
    test: &[
        "https://api-m.sandbox.paypal.com",
        "https://api.sandbox.paypal.com",
    ],
    live: &["https://api-m.paypal.com", "https://api.paypal.com"],
};

impl Hosts {
    /// The address to call in `mode`: the one given, or this mode's host; the other mode's
    /// host is refused.
    pub fn resolve(&self, given: Option<&str>, mode: Mode) -> Result<String, ConfigError> {
        let (own, other) = match mode {
            Mode::Sandbox => (self.test, self.live),
            Mode::Live => (self.live, self.test),
        };
        let default = own.first().copied().unwrap_or_default();
        let url = given.unwrap_or(default);
        if !is_readable(url) {
            return Err(ConfigError::UnreadableUrl(self.variable));
        }
        if other.iter().any(|address| same_host(url, address)) {
            return Err(ConfigError::OtherModesHost {
                variable: self.variable,
                provider: self.provider,
                mode,
                expected: default,
            });
        }
        Ok(url.to_string())
    }
}

/// Whether `url` is an address with a host.
pub(super) fn is_readable(url: &str) -> bool {
    host_of(url).is_some_and(|host| !host.is_empty())
}

/// Whether `url` reaches the host of `address` (a trailing dot names the same host).
fn same_host(url: &str, address: &str) -> bool {
    match (host_of(url), host_of(address)) {
        (Some(url), Some(address)) => url.eq_ignore_ascii_case(&address),
        _ => false,
    }
}

fn host_of(url: &str) -> Option<String> {
    let parsed = reqwest::Url::parse(url).ok()?;
    Some(parsed.host_str()?.trim_end_matches('.').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_mode_defaults_to_its_own_host_and_refuses_the_other() {
        assert_eq!(
            VIATOR.resolve(None, Mode::Sandbox).unwrap(),
            "https://api.sandbox.viator.com/partner"
        );
        assert_eq!(
            VIATOR.resolve(None, Mode::Live).unwrap(),
            "https://api.viator.com/partner"
        );
        assert_eq!(
            PAYPAL
                .resolve(Some("http://127.0.0.1:9000"), Mode::Live)
                .unwrap(),
            "http://127.0.0.1:9000",
            "a proxy or a local fake is taken as given"
        );
        let error = PAYPAL
            .resolve(Some("https://API.paypal.com/"), Mode::Sandbox)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("ITINERA_PAYPAL_BASE_URL")
                && error.contains("PayPal's production API")
                && error.contains("https://api-m.sandbox.paypal.com"),
            "{error}"
        );
        let error = AMADEUS
            .resolve(Some("https://test.api.amadeus.com"), Mode::Live)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("Amadeus's test host") && error.contains("https://api.amadeus.com"),
            "{error}"
        );
        for unreadable in ["not a url", "file:///etc/hosts"] {
            assert!(
                matches!(
                    GETYOURGUIDE.resolve(Some(unreadable), Mode::Sandbox),
                    Err(ConfigError::UnreadableUrl("ITINERA_GETYOURGUIDE_BASE_URL"))
                ),
                "{unreadable}: an address that cannot be read is not trusted"
            );
        }
        assert!(
            PAYPAL
                .resolve(Some("https://api-m.paypal.com./v1"), Mode::Sandbox)
                .is_err(),
            "a trailing dot names the same host"
        );
    }
}
