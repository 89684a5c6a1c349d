//! A local Amadeus Self-Service, following `shared/provider-apis.md` §6a and the published
//! OpenAPI specifications: a client-credentials token (form-encoded, `expires_in: 1799`) that
//! every call must carry as a bearer, answers in `{"data": …}`, hotels listed by city, offers
//! priced in decimal strings with their cancellation rules, the re-pricing of one offer, and
//! hotel orders (201) guaranteed by a card, checked like the specification says: the `type`,
//! the travel agent's e-mail, guests matching the room association and the offer's adults, a
//! card with vendor code, number, expiry and holder. Errors as `{"errors": [{status, code,
//! title, detail}]}` with Amadeus's numeric codes. There is no retrieve and no cancel, as in
//! the real API. It records every request, and can be told to fail the next ones.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, Uri};
use axum::response::Response;
use axum::routing::{get, post};
use chrono::{NaiveDate, Utc};
use rust_decimal::Decimal;
use serde_json::{Value, json};

pub use super::fake_http::Received;
use super::fake_http::{Recorder, json_response};

pub const CLIENT_ID: &str = "fake-amadeus-key";
pub const CLIENT_SECRET: &str = "fake-amadeus-secret";
pub const CURRENCY: &str = "EUR";
/// The agency's e-mail the tests configure.
pub const AGENCY_EMAIL: &str = "desk@agency.example";
/// The agency card the tests configure.
pub const CARD_NUMBER: &str = "4111111111111111";

/// A hotel of the fake's inventory: Paris has three.
struct Hotel {
    id: &'static str,
    name: &'static str,
    city: &'static str,
    nightly: Decimal,
    /// Free cancellation until two days before check-in, then one night's price; or none.
    refundable: bool,
    /// `policies.paymentType`: `PREPAY` is paid when booked, `GUARANTEE` at the hotel.
    payment_type: &'static str,
}

const HOTELS: [Hotel; 3] = [
    Hotel {
        id: "FKPARLUM",
        name: "HOTEL LUMIERE FAKE",
        city: "PAR",
        nightly: Decimal::from_parts(14000, 0, 0, false, 2),
        refundable: true,
        payment_type: "PREPAY",
    },
    Hotel {
        id: "FKPARMAR",
        name: "MARAIS INN FAKE",
        city: "PAR",
        nightly: Decimal::from_parts(9500, 0, 0, false, 2),
        refundable: false,
        payment_type: "GUARANTEE",
    },
    Hotel {
        id: "FKPARBAS",
        name: "BASTILLE ROOMS FAKE",
        city: "PAR",
        nightly: Decimal::from_parts(11000, 0, 0, false, 2),
        refundable: false,
        payment_type: "PREPAY",
    },
];

#[derive(Debug, Clone)]
struct StoredOffer {
    hotel: usize,
    body: Value,
    adults: u64,
    withdrawn: bool,
}

#[derive(Default)]
struct Books {
    offers: HashMap<String, StoredOffer>,
    orders: Vec<Value>,
    tokens: HashSet<String>,
    recorder: Recorder,
    next_id: u64,
    /// The status the next hotel order is made with (default CONFIRMED).
    next_status: Option<&'static str>,
    /// The next hotel order is made, but a 500 goes back instead of its answer.
    lose_next_order_answer: bool,
    /// The next hotel order is refused with this status before anything is made.
    fail_next_order: Option<u16>,
}

impl Books {
    fn id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}{:08}", self.next_id)
    }
}

#[derive(Clone)]
pub struct FakeAmadeus {
    books: Arc<Mutex<Books>>,
    pub base_url: String,
}

impl FakeAmadeus {
    pub async fn start() -> FakeAmadeus {
        let (listener, base_url) = super::fake_http::bind().await;
        let fake = FakeAmadeus {
            books: Arc::default(),
            base_url,
        };
        let app = Router::new()
            .route("/v1/security/oauth2/token", post(token))
            .route("/v1/reference-data/locations/hotels/by-city", get(handle))
            .route("/v3/shopping/hotel-offers", get(handle))
            .route("/v3/shopping/hotel-offers/{id}", get(handle))
            .route("/v2/booking/hotel-orders", post(handle))
            .with_state(fake.clone());
        super::fake_http::serve(listener, app);
        fake
    }

    /// Itinera's settings for this fake: its client id, the given secret, the agency's test
    /// card and e-mail.
    pub fn settings(&self, secret: &str) -> itinera::adapters::booking::amadeus::AmadeusSettings {
        use itinera::adapters::booking::amadeus::{AgencyCard, AmadeusSettings, Credentials};
        AmadeusSettings {
            credentials: Credentials {
                client_id: CLIENT_ID.into(),
                client_secret: secret.into(),
            },
            base_url: self.base_url.clone(),
            card: AgencyCard::parse(
                "ITINERA_AMADEUS_CARD",
                CARD_NUMBER,
                "2027-08",
                "AGENCY DESK",
                Some("123"),
            )
            .unwrap(),
            agency_email: AGENCY_EMAIL.into(),
        }
    }

    /// Every request received, oldest first.
    pub fn received(&self) -> Vec<Received> {
        self.books.lock().unwrap().recorder.received.clone()
    }

    /// Requests received on this method and path.
    pub fn received_on(&self, method: &str, path: &str) -> Vec<Received> {
        self.books
            .lock()
            .unwrap()
            .recorder
            .received_on(method, path)
    }

    /// The next API call (not the token call) is answered with this status and Amadeus's error
    /// body, without acting; a 429 carries `Retry-After` if given.
    pub fn fail_next(&self, status: u16, retry_after: Option<u64>) {
        self.books
            .lock()
            .unwrap()
            .recorder
            .fail_next(status, retry_after);
    }

    /// Every token issued so far stops being valid, as when Amadeus expires it early.
    pub fn revoke_tokens(&self) {
        self.books.lock().unwrap().tokens.clear();
    }

    /// The next hotel order is made with this `bookingStatus`.
    pub fn next_order_status(&self, status: &'static str) {
        self.books.lock().unwrap().next_status = Some(status);
    }

    /// The next hotel order (and only it) is refused with this status, nothing made.
    pub fn fail_next_order(&self, status: u16) {
        self.books.lock().unwrap().fail_next_order = Some(status);
    }

    /// The next hotel order is made, but its answer is lost (a 500 goes back).
    pub fn lose_next_order_answer(&self) {
        self.books.lock().unwrap().lose_next_order_answer = true;
    }

    /// The offer is sold: re-pricing and booking it find nothing.
    pub fn withdraw(&self, offer: &str) {
        self.books
            .lock()
            .unwrap()
            .offers
            .get_mut(offer)
            .unwrap()
            .withdrawn = true;
    }

    /// The offer is now paid at the hotel (`GUARANTEE`).
    pub fn pay_at_hotel(&self, offer: &str) {
        let mut books = self.books.lock().unwrap();
        let stored = books.offers.get_mut(offer).unwrap();
        stored.body["policies"]["paymentType"] = json!("GUARANTEE");
    }

    /// The offer's total changes to `total`.
    pub fn reprice(&self, offer: &str, total: &str) {
        let mut books = self.books.lock().unwrap();
        let stored = books.offers.get_mut(offer).unwrap();
        stored.body["price"]["total"] = json!(total);
        stored.body["price"]["sellingTotal"] = json!(total);
    }

    /// Every hotel order made, oldest first: (id, offer id, guest last names, card number).
    pub fn orders(&self) -> Vec<Value> {
        self.books.lock().unwrap().orders.clone()
    }
}

fn error(status: u16, code: u32, title: &str, detail: &str) -> Response {
    json_response(
        status,
        &json!({"errors": [{"status": status, "code": code, "title": title, "detail": detail}]}),
    )
}

fn invalid_format(detail: &str) -> Response {
    error(400, 477, "INVALID FORMAT", detail)
}

/// `POST /v1/security/oauth2/token`: form-encoded client credentials.
async fn token(State(fake): State<FakeAmadeus>, headers: HeaderMap, body: String) -> Response {
    let form: Vec<(String, String)> = serde_urlencoded::from_str(&body).unwrap_or_default();
    let mut books = fake.books.lock().unwrap();
    books.recorder.record(
        "POST",
        "/v1/security/oauth2/token",
        &headers,
        form.clone(),
        None,
    );
    let field = |name: &str| {
        form.iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    };
    let form_encoded = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form_encoded || field("grant_type") != Some("client_credentials") {
        return json_response(
            400,
            &json!({"error": "unsupported_grant_type", "error_description": "Only client_credentials value is allowed for the body parameter grant_type", "code": 38187, "title": "Invalid parameters"}),
        );
    }
    if field("client_id") != Some(CLIENT_ID) || field("client_secret") != Some(CLIENT_SECRET) {
        return json_response(
            401,
            &json!({"error": "invalid_client", "error_description": "Client credentials are invalid", "code": 38187, "title": "Invalid parameters"}),
        );
    }
    let token = books.id("FAKETOKEN");
    books.tokens.insert(token.clone());
    json_response(
        200,
        &json!({
            "type": "amadeusOAuth2Token",
            "username": "desk@agency.example",
            "application_name": "itinera-tests",
            "client_id": CLIENT_ID,
            "token_type": "Bearer",
            "access_token": token,
            "expires_in": 1799,
            "state": "approved",
            "scope": "",
        }),
    )
}

async fn handle(
    State(fake): State<FakeAmadeus>,
    method: Method,
    uri: Uri,
    path: Option<Path<String>>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let query: Vec<(String, String)> =
        serde_urlencoded::from_str(uri.query().unwrap_or_default()).unwrap_or_default();
    let json: Option<Value> = serde_json::from_str(&body).ok();
    let mut books = fake.books.lock().unwrap();
    books.recorder.record(
        method.as_str(),
        uri.path(),
        &headers,
        query.clone(),
        json.clone(),
    );
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let bearer = header("authorization").and_then(|v| v.strip_prefix("Bearer "));
    if !bearer.is_some_and(|token| books.tokens.contains(token)) {
        return error(
            401,
            38190,
            "Invalid access token",
            "The access token provided in the Authorization header is invalid",
        );
    }
    if let Some(forced) = books.recorder.forced_failure(|status| {
        let (code, title) = match status {
            429 => (38194, "Too many requests"),
            500 => (141, "SYSTEM ERROR HAS OCCURRED"),
            _ => (38189, "Internal error"),
        };
        json!({"errors": [{"status": status, "code": code, "title": title, "detail": format!("forced HTTP {status}")}]})
    }) {
        return forced;
    }
    let field = |name: &str| {
        query
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    };
    match (method.as_str(), uri.path()) {
        ("GET", "/v1/reference-data/locations/hotels/by-city") => by_city(field("cityCode")),
        ("GET", "/v3/shopping/hotel-offers") => search(&mut books, &field),
        ("GET", _) => price(&books, &path.map(|Path(id)| id).unwrap_or_default()),
        ("POST", _) => {
            let media = header("content-type").unwrap_or_default();
            if !media.starts_with("application/vnd.amadeus+json")
                && !media.starts_with("application/json")
            {
                return error(415, 477, "INVALID FORMAT", "unsupported media type");
            }
            if let Some(status) = books.fail_next_order.take() {
                return error(
                    status,
                    38194,
                    "Too many requests",
                    "forced on the hotel order",
                );
            }
            let answer = create_order(&mut books, json.as_ref().map(|body| &body["data"]));
            if books.lose_next_order_answer && answer.status() == 201 {
                books.lose_next_order_answer = false;
                return error(500, 141, "SYSTEM ERROR HAS OCCURRED", "lost answer");
            }
            answer
        }
        _ => error(404, 38196, "Resource not found", "no such route"),
    }
}

fn by_city(city: Option<String>) -> Response {
    let Some(city) = city.filter(|c| c.len() == 3 && c.chars().all(|c| c.is_ascii_alphabetic()))
    else {
        return invalid_format("cityCode must be 3 letters");
    };
    let hotels: Vec<Value> = HOTELS
        .iter()
        .filter(|hotel| hotel.city == city)
        .map(|hotel| {
            json!({"chainCode": "FK", "iataCode": hotel.city, "dupeId": 700000000, "name": hotel.name, "hotelId": hotel.id, "geoCode": {"latitude": 48.86, "longitude": 2.35}, "address": {"countryCode": "FR"}})
        })
        .collect();
    json_response(
        200,
        &json!({"data": hotels, "meta": {"count": hotels.len()}}),
    )
}

fn search(books: &mut Books, field: &dyn Fn(&str) -> Option<String>) -> Response {
    let Some(ids) = field("hotelIds") else {
        return invalid_format("hotelIds is required");
    };
    let adults: u64 = match field("adults").map(|a| a.parse::<u64>()) {
        None => 1,
        Some(Ok(adults @ 1..=9)) => adults,
        Some(_) => {
            return error(
                400,
                397,
                "INVALID NUMBER OF ADULTS",
                "adults must be 1 to 9",
            );
        }
    };
    let date =
        |name: &str| field(name).and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok());
    let (Some(check_in), Some(check_out)) = (date("checkInDate"), date("checkOutDate")) else {
        return error(
            400,
            381,
            "INVALID CHECK-IN DATE",
            "dates must be YYYY-MM-DD",
        );
    };
    if check_in < Utc::now().date_naive() {
        return error(400, 381, "INVALID CHECK-IN DATE", "check-in is in the past");
    }
    if check_out <= check_in {
        return error(
            400,
            404,
            "CHECK_OUT DATE MUST BE FURTHER IN THE FUTURE THAN CHECK-IN DATE",
            "",
        );
    }
    let nights = Decimal::from((check_out - check_in).num_days());
    let mut found = Vec::new();
    for id in ids.split(',') {
        let Some(index) = HOTELS.iter().position(|hotel| hotel.id == id) else {
            continue;
        };
        let hotel = &HOTELS[index];
        let offer_id = books.id("FAKEOFFER");
        let total = (hotel.nightly * nights).round_dp(2);
        let cancellations = if hotel.refundable {
            let deadline = format!("{}T23:59:00+01:00", check_in - chrono::Duration::days(2));
            json!([{"amount": format!("{:.2}", hotel.nightly), "deadline": deadline}])
        } else {
            json!([])
        };
        let body = json!({
            "id": offer_id,
            "checkInDate": check_in.to_string(),
            "checkOutDate": check_out.to_string(),
            "rateCode": "BAR",
            "boardType": if hotel.refundable { "BREAKFAST" } else { "ROOM_ONLY" },
            "room": {"type": "A1K", "typeEstimated": {"category": "STANDARD_ROOM", "beds": 1, "bedType": "KING"}, "description": {"text": "Classic King Room, city view. Free wifi", "lang": "EN"}},
            "guests": {"adults": adults},
            "price": {"currency": CURRENCY, "base": format!("{:.2}", total), "total": format!("{:.2}", total), "sellingTotal": format!("{:.2}", total)},
            "policies": {"paymentType": hotel.payment_type, "cancellations": cancellations},
            "self": format!("https://test.api.amadeus.com/v3/shopping/hotel-offers/{offer_id}"),
        });
        books.offers.insert(
            offer_id,
            StoredOffer {
                hotel: index,
                body: body.clone(),
                adults,
                withdrawn: false,
            },
        );
        found.push(hotel_offers(hotel, vec![body]));
    }
    if found.is_empty() {
        return error(400, 424, "NO HOTELS FOUND WHICH MATCH THIS INPUT", "");
    }
    json_response(200, &json!({"data": found}))
}

fn hotel_offers(hotel: &Hotel, offers: Vec<Value>) -> Value {
    json!({
        "type": "hotel-offers",
        "hotel": {"type": "hotel", "hotelId": hotel.id, "chainCode": "FK", "name": hotel.name, "cityCode": hotel.city},
        "available": true,
        "offers": offers,
    })
}

/// `GET /v3/shopping/hotel-offers/{offerId}`.
fn price(books: &Books, id: &str) -> Response {
    match books.offers.get(id) {
        Some(offer) if !offer.withdrawn => json_response(
            200,
            &json!({"data": hotel_offers(&HOTELS[offer.hotel], vec![offer.body.clone()])}),
        ),
        _ => error(404, 1797, "NOT FOUND", "Hotel or offer not found"),
    }
}

/// `POST /v2/booking/hotel-orders`, checked as Hotel Booking v2 describes.
fn create_order(books: &mut Books, data: Option<&Value>) -> Response {
    let Some(data) = data else {
        return invalid_format("the body must be {\"data\": …}");
    };
    if data["type"] != "hotel-order" {
        return error(400, 8612, "INVALID TYPE", "data/type must be hotel-order");
    }
    if !data["travelAgent"]["contact"]["email"].is_string() {
        return invalid_format("travelAgent.contact.email is required");
    }
    let guests = data["guests"].as_array().cloned().unwrap_or_default();
    let named = guests.iter().all(|guest| {
        guest["tid"].is_u64()
            && [&guest["firstName"], &guest["lastName"]]
                .iter()
                .all(|name| {
                    name.as_str().is_some_and(|n| {
                        !n.is_empty()
                            && n.chars().all(|c| c.is_alphabetic() || c == ' ' || c == '-')
                    })
                })
    });
    if guests.is_empty() || !named {
        return invalid_format("each guest needs a tid, a firstName and a lastName");
    }
    let [room] = data["roomAssociations"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    else {
        return error(
            400,
            33555,
            "NUMBER OF ROOMS MISMATCH BETWEEN SHOPPING AND BOOKING",
            "",
        );
    };
    let tids: HashSet<u64> = guests.iter().filter_map(|g| g["tid"].as_u64()).collect();
    let references: Vec<Option<u64>> = room["guestReferences"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|r| r["guestReference"].as_str().and_then(|t| t.parse().ok()))
        .collect();
    if references.is_empty()
        || references
            .iter()
            .any(|r| !r.is_some_and(|t| tids.contains(&t)))
    {
        return error(400, 4725, "INVALID PASSENGER ASSOCIATION", "");
    }
    let offer_id = room["hotelOfferId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let Some(offer) = books
        .offers
        .get(&offer_id)
        .filter(|o| !o.withdrawn)
        .cloned()
    else {
        return error(
            400,
            38420,
            "OFFER NOT FOUND",
            "The Offer ID put in request does not exist or has expired",
        );
    };
    if references.len() as u64 != offer.adults {
        return error(400, 1503, "INVALID NUMBER OF GUESTS", "");
    }
    let payment = &data["payment"];
    let card = &payment["paymentCard"]["paymentCardInfo"];
    let expiry = card["expiryDate"].as_str().unwrap_or_default();
    let expiry_ok = (expiry.len() == 7 && expiry.as_bytes()[4] == b'-')
        || (expiry.len() == 4 && expiry.bytes().all(|b| b.is_ascii_digit()));
    let card_ok = payment["method"] == "CREDIT_CARD"
        && card["vendorCode"].as_str().is_some_and(|v| v.len() == 2)
        && card["cardNumber"].as_str().is_some_and(|n| n.len() >= 12)
        && card["holderName"].as_str().is_some_and(|h| !h.is_empty())
        && expiry_ok;
    if !card_ok {
        return error(400, 38592, "INVALID METHOD OF PAYMENT", "");
    }
    let order_id = books.id("FAKEORDER");
    let confirmation = books.id("");
    let status = books.next_status.take().unwrap_or("CONFIRMED");
    let hotel = &HOTELS[offer.hotel];
    let order = json!({
        "type": "hotel-order",
        "id": order_id,
        "hotelBookings": [{
            "type": "hotel-booking",
            "id": format!("{order_id}B1"),
            "bookingStatus": status,
            "hotelProviderInformation": [{"hotelProviderCode": "FK", "confirmationNumber": confirmation}],
            "roomAssociations": [{"hotelOfferId": offer_id, "guestReferences": room["guestReferences"]}],
            "hotelOffer": offer.body,
            "hotel": {"hotelId": hotel.id, "chainCode": "FK", "name": hotel.name},
            "payment": {"method": "CREDIT_CARD", "paymentCard": {"paymentCardInfo": {"vendorCode": card["vendorCode"], "cardNumber": card["cardNumber"], "expiryDate": expiry, "holderName": card["holderName"]}}},
            "travelAgentId": "00000000",
        }],
        "guests": guests,
        "associatedRecords": [{"reference": "FKPNR1", "originSystemCode": "GDS"}],
        "self": format!("https://test.api.amadeus.com/v2/booking/hotel-orders/{order_id}"),
    });
    books.orders.push(order.clone());
    json_response(201, &json!({"data": order}))
}
