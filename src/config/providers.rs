//! The providers' settings: which payment providers, with what credentials, and the travel
//! providers. Test credentials and test hosts only in sandbox mode; live credentials and
//! production hosts only in live mode (see [`super::hosts`]).

use clap::ValueEnum;

use super::hosts::{self, AMADEUS, AVIS, BOOKING_COM, GETYOURGUIDE, PAYPAL, VIATOR};
use super::{ConfigError, Mode, Secret, Settings};
use crate::adapters::booking::agency_card::AgencyCard;
use crate::adapters::booking::amadeus::{AmadeusSettings, Credentials};
use crate::adapters::booking::avis::AvisSettings;
use crate::adapters::booking::booking_com::BookingComSettings;
use crate::adapters::booking::duffel::DuffelSettings;
use crate::adapters::booking::getyourguide::GetYourGuideSettings;
use crate::adapters::booking::viator::ViatorSettings;

/// Whether `url` reaches WeChat Pay's own servers (any of its domains, or an address that cannot
/// be read, which is not trusted either).
fn is_wechat_pay_itself(url: &str) -> bool {
    let Ok(parsed) = reqwest::Url::parse(url) else {
        return true;
    };
    let host = parsed.host_str().unwrap_or_default().to_ascii_lowercase();
    ["weixin.qq.com", "wechatpay.cn", "tenpay.com"]
        .iter()
        .any(|domain| host == *domain || host.ends_with(&format!(".{domain}")))
}

/// The payment providers Itinera can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PaymentProviderName {
    Sandbox,
    Stripe,
    #[value(name = "paypal")]
    PayPal,
    Antom,
    #[value(name = "wechat")]
    WeChat,
}

/// Which payment provider, with what it needs. The return page comes from the running app.
#[derive(Debug, Clone)]
pub enum PaymentSettings {
    Sandbox,
    Stripe {
        secret_key: Secret,
        base_url: String,
        /// The webhook endpoint's signing secret, `whsec_…`.
        webhook_secret: Option<Secret>,
    },
    PayPal {
        client_id: String,
        client_secret: Secret,
        base_url: String,
        /// The id PayPal gave the webhook endpoint, needed to verify deliveries.
        webhook_id: Option<String>,
    },
    Antom {
        client_id: String,
        keys: crate::adapters::payments::antom::Keys,
        base_url: String,
        /// Where Antom sends payment notifications (`…/webhooks/antom`), if Itinera's webhook
        /// endpoint is reachable (`ITINERA_WEBHOOK_PUBLIC_URL`).
        notify_url: Option<String>,
    },
    /// WeChat Pay v3, charged after booking.
    WeChat {
        settings: Box<crate::adapters::payments::wechat::WeChatSettings>,
        /// Decrypts notifications, for `itinera webhooks` (an AES key schedule: boxed, it is large).
        api_v3_key: Box<crate::adapters::payments::wechat::ApiV3Key>,
    },
}

impl Settings {
    /// Duffel, if its token is set: a test token in sandbox mode, a live one in live mode (one
    /// host serves both; the token decides).
    pub(super) fn duffel(&self) -> Result<Option<DuffelSettings>, ConfigError> {
        let Some(token) = &self.duffel_access_token else {
            return Ok(None);
        };
        match self.mode {
            Mode::Sandbox if !token.expose().starts_with("duffel_test_") => {
                return Err(ConfigError::DuffelLiveToken);
            }
            Mode::Live if !token.expose().starts_with("duffel_live_") => {
                return Err(ConfigError::DuffelTestToken);
            }
            Mode::Sandbox | Mode::Live => {}
        }
        Ok(Some(DuffelSettings {
            access_token: token.expose().to_string(),
            base_url: self.duffel_base_url.clone(),
            products: self.duffel_products.clone(),
            supplier_timeout: supplier_timeout(self.search_deadline_ms),
        }))
    }

    /// Amadeus, if its client id is set: then everything a hotel order needs must be too. Its
    /// keys carry no mode: the host does.
    pub(super) fn amadeus(&self) -> Result<Option<AmadeusSettings>, ConfigError> {
        let Some(client_id) = &self.amadeus_client_id else {
            return Ok(None);
        };
        let missing = absent(&[
            (
                "ITINERA_AMADEUS_CLIENT_SECRET",
                self.amadeus_client_secret.is_none(),
            ),
            (
                "ITINERA_AMADEUS_AGENCY_EMAIL",
                self.amadeus_agency_email.is_none(),
            ),
            (
                "ITINERA_AMADEUS_CARD_NUMBER",
                self.amadeus_card_number.is_none(),
            ),
            (
                "ITINERA_AMADEUS_CARD_EXPIRY",
                self.amadeus_card_expiry.is_none(),
            ),
            (
                "ITINERA_AMADEUS_CARD_HOLDER",
                self.amadeus_card_holder.is_none(),
            ),
        ]);
        let (Some(secret), Some(email), Some(number), Some(expiry), Some(holder)) = (
            &self.amadeus_client_secret,
            &self.amadeus_agency_email,
            &self.amadeus_card_number,
            &self.amadeus_card_expiry,
            &self.amadeus_card_holder,
        ) else {
            return Err(ConfigError::AmadeusSettingsMissing(missing));
        };
        let base_url = AMADEUS.resolve(self.amadeus_base_url.as_deref(), self.mode)?;
        Ok(Some(AmadeusSettings {
            credentials: Credentials {
                client_id: client_id.clone(),
                client_secret: secret.expose().to_string(),
            },
            base_url,
            card: AgencyCard::parse(
                "ITINERA_AMADEUS_CARD",
                number.expose(),
                expiry,
                holder,
                self.amadeus_card_cvc.as_ref().map(Secret::expose),
            )?,
            agency_email: email.clone(),
        }))
    }

    /// Booking.com, if its key is set: then everything an order needs must be too. Its keys
    /// carry no test or live mark (the sandbox takes the production key), so the mode picks
    /// the host.
    pub(super) fn booking_com(&self) -> Result<Option<BookingComSettings>, ConfigError> {
        let Some(key) = &self.bookingcom_api_key else {
            return Ok(None);
        };
        let missing = absent(&[
            (
                "ITINERA_BOOKINGCOM_AFFILIATE_ID",
                self.bookingcom_affiliate_id.is_none(),
            ),
            (
                "ITINERA_BOOKINGCOM_BOOKER_COUNTRY",
                self.bookingcom_booker_country.is_none(),
            ),
            (
                "ITINERA_BOOKINGCOM_CARD_NUMBER",
                self.bookingcom_card_number.is_none(),
            ),
            (
                "ITINERA_BOOKINGCOM_CARD_EXPIRY",
                self.bookingcom_card_expiry.is_none(),
            ),
            (
                "ITINERA_BOOKINGCOM_CARD_HOLDER",
                self.bookingcom_card_holder.is_none(),
            ),
            (
                "ITINERA_BOOKINGCOM_CARD_CVC",
                self.bookingcom_card_cvc.is_none(),
            ),
        ]);
        let (Some(affiliate), Some(country), Some(number), Some(expiry), Some(holder), Some(cvc)) = (
            &self.bookingcom_affiliate_id,
            &self.bookingcom_booker_country,
            &self.bookingcom_card_number,
            &self.bookingcom_card_expiry,
            &self.bookingcom_card_holder,
            &self.bookingcom_card_cvc,
        ) else {
            return Err(ConfigError::BookingComSettingsMissing(missing));
        };
        let affiliate_id: u64 = affiliate
            .trim()
            .parse()
            .map_err(|_| ConfigError::BookingComAffiliateId)?;
        let country = country.trim().to_ascii_lowercase();
        if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_lowercase()) {
            return Err(ConfigError::BookingComBookerCountry);
        }
        Ok(Some(BookingComSettings {
            api_key: key.expose().to_string(),
            affiliate_id,
            base_url: BOOKING_COM.resolve(self.bookingcom_base_url.as_deref(), self.mode)?,
            card: AgencyCard::parse(
                "ITINERA_BOOKINGCOM_CARD",
                number.expose(),
                expiry,
                holder,
                Some(cvc.expose()),
            )?,
            booker_country: country,
        }))
    }

    /// Avis, if its client id is set: then the secret and the card must be too. Its credentials
    /// carry no mode; the host does, and ABG publishes only the staging one.
    pub(super) fn avis(&self) -> Result<Option<AvisSettings>, ConfigError> {
        let Some(client_id) = &self.avis_client_id else {
            return Ok(None);
        };
        let (Some(secret), Some(number), Some(expiry), Some(holder)) = (
            &self.avis_client_secret,
            &self.avis_card_number,
            &self.avis_card_expiry,
            &self.avis_card_holder,
        ) else {
            return Err(ConfigError::AvisSettingsMissing(absent(&[
                (
                    "ITINERA_AVIS_CLIENT_SECRET",
                    self.avis_client_secret.is_none(),
                ),
                ("ITINERA_AVIS_CARD_NUMBER", self.avis_card_number.is_none()),
                ("ITINERA_AVIS_CARD_EXPIRY", self.avis_card_expiry.is_none()),
                ("ITINERA_AVIS_CARD_HOLDER", self.avis_card_holder.is_none()),
            ])));
        };
        let brand = ["Avis", "Budget", "Payless"]
            .into_iter()
            .find(|brand| brand.eq_ignore_ascii_case(self.avis_brand.trim()))
            .ok_or_else(|| ConfigError::AvisBrand(self.avis_brand.clone()))?;
        if self.mode == Mode::Live && self.avis_base_url.is_none() {
            return Err(ConfigError::AvisLiveHost);
        }
        Ok(Some(AvisSettings {
            credentials: crate::adapters::booking::avis::Credentials {
                client_id: client_id.clone(),
                client_secret: secret.expose().to_string(),
            },
            base_url: AVIS.resolve(self.avis_base_url.as_deref(), self.mode)?,
            brand: brand.to_string(),
            card: AgencyCard::parse("ITINERA_AVIS_CARD", number.expose(), expiry, holder, None)?,
        }))
    }

    /// Viator, if its key is set. Its keys carry no test or live mark, so the mode picks the
    /// host: a sandbox key only works on the sandbox host anyway.
    pub(super) fn viator(&self) -> Result<Option<ViatorSettings>, ConfigError> {
        let Some(key) = &self.viator_api_key else {
            return Ok(None);
        };
        Ok(Some(ViatorSettings {
            api_key: key.expose().to_string(),
            base_url: VIATOR.resolve(self.viator_base_url.as_deref(), self.mode)?,
        }))
    }

    /// GetYourGuide, if its token is set: its testing host (where bookings are not real) in
    /// sandbox mode, production in live mode.
    pub(super) fn getyourguide(&self) -> Result<Option<GetYourGuideSettings>, ConfigError> {
        let Some(token) = &self.getyourguide_access_token else {
            return Ok(None);
        };
        Ok(Some(GetYourGuideSettings {
            access_token: token.expose().to_string(),
            base_url: GETYOURGUIDE.resolve(self.getyourguide_base_url.as_deref(), self.mode)?,
        }))
    }

    /// The payment providers in the operator's order, each named once.
    pub(super) fn payments(&self) -> Result<Vec<PaymentSettings>, ConfigError> {
        let mut names: Vec<PaymentProviderName> = Vec::new();
        for name in &self.payment_provider {
            if !names.contains(name) {
                names.push(*name);
            }
        }
        names.into_iter().map(|name| self.payment(name)).collect()
    }

    /// One payment provider, with the credentials and host of the mode.
    fn payment(&self, name: PaymentProviderName) -> Result<PaymentSettings, ConfigError> {
        match name {
            PaymentProviderName::Sandbox => Ok(PaymentSettings::Sandbox),
            PaymentProviderName::Stripe => {
                let key = self
                    .stripe_secret_key
                    .clone()
                    .ok_or(ConfigError::StripeKeyMissing)?;
                let prefixes: &[&str] = match self.mode {
                    Mode::Sandbox => &["sk_test_", "rk_test_"],
                    Mode::Live => &["sk_live_", "rk_live_"],
                };
                if !prefixes
                    .iter()
                    .any(|prefix| key.expose().starts_with(prefix))
                {
                    return Err(match self.mode {
                        Mode::Sandbox => ConfigError::StripeLiveKey,
                        Mode::Live => ConfigError::StripeTestKey,
                    });
                }
                Ok(PaymentSettings::Stripe {
                    secret_key: key,
                    base_url: self.stripe_base_url.clone(),
                    webhook_secret: self.stripe_webhook_secret.clone(),
                })
            }
            PaymentProviderName::PayPal => {
                let (Some(client_id), Some(client_secret)) =
                    (&self.paypal_client_id, &self.paypal_client_secret)
                else {
                    return Err(ConfigError::PayPalCredentialsMissing);
                };
                Ok(PaymentSettings::PayPal {
                    client_id: client_id.clone(),
                    client_secret: client_secret.clone(),
                    base_url: PAYPAL.resolve(self.paypal_base_url.as_deref(), self.mode)?,
                    webhook_id: self.paypal_webhook_id.clone(),
                })
            }
            PaymentProviderName::Antom => {
                let (Some(client_id), Some(private), Some(public)) = (
                    &self.antom_client_id,
                    &self.antom_private_key,
                    &self.antom_public_key,
                ) else {
                    return Err(ConfigError::AntomSettingsMissing);
                };
                match (self.mode, client_id.starts_with("SANDBOX_")) {
                    (Mode::Sandbox, false) => return Err(ConfigError::AntomLiveClient),
                    (Mode::Live, true) => return Err(ConfigError::AntomSandboxClient),
                    (Mode::Sandbox, true) | (Mode::Live, false) => {}
                }
                Ok(PaymentSettings::Antom {
                    client_id: client_id.clone(),
                    keys: crate::adapters::payments::antom::Keys::parse(private.expose(), public)?,
                    base_url: self.antom_base_url.clone(),
                    notify_url: self
                        .webhook_public_url
                        .as_ref()
                        .map(|base| format!("{}/webhooks/antom", base.trim_end_matches('/'))),
                })
            }
            PaymentProviderName::WeChat => self.wechat(),
        }
    }

    /// WeChat Pay: every setting is needed, and — with no sandbox of its own — only another
    /// address than WeChat Pay's in sandbox mode (a local fake in tests).
    fn wechat(&self) -> Result<PaymentSettings, ConfigError> {
        use crate::adapters::payments::wechat::{ApiV3Key, Signer, Verifier, WeChatSettings};
        let (
            Some(mch_id),
            Some(app_id),
            Some(private),
            Some(serial),
            Some(public),
            Some(public_id),
            Some(api_v3_key),
            Some(public_url),
        ) = (
            &self.wechat_mch_id,
            &self.wechat_app_id,
            &self.wechat_private_key,
            &self.wechat_merchant_serial_no,
            &self.wechat_public_key,
            &self.wechat_public_key_id,
            &self.wechat_api_v3_key,
            &self.webhook_public_url,
        )
        else {
            return Err(ConfigError::WeChatSettingsMissing);
        };
        match self.mode {
            Mode::Sandbox if is_wechat_pay_itself(&self.wechat_base_url) => {
                return Err(ConfigError::WeChatLiveHost);
            }
            Mode::Live if !hosts::is_readable(&self.wechat_base_url) => {
                return Err(ConfigError::UnreadableUrl("ITINERA_WECHAT_BASE_URL"));
            }
            Mode::Sandbox | Mode::Live => {}
        }
        Ok(PaymentSettings::WeChat {
            settings: Box::new(WeChatSettings {
                mch_id: mch_id.clone(),
                app_id: app_id.clone(),
                merchant: Signer::parse(private.expose(), serial)?,
                platform: Verifier::parse(public, public_id)?,
                base_url: self.wechat_base_url.clone(),
                notify_url: format!("{}/webhooks/wechat", public_url.trim_end_matches('/')),
            }),
            api_v3_key: Box::new(
                ApiV3Key::parse(api_v3_key.expose()).map_err(|_| ConfigError::WeChatApiV3Key)?,
            ),
        })
    }
}

/// What Duffel may wait for airlines: the search deadline less a second and a half for the
/// answer to travel, never under a second.
fn supplier_timeout(search_deadline_ms: u64) -> std::time::Duration {
    std::time::Duration::from_millis(search_deadline_ms.saturating_sub(1500).max(1000))
}

/// The variables whose flag is set, joined for an error: the settings a provider still needs.
fn absent(settings: &[(&str, bool)]) -> String {
    settings
        .iter()
        .filter_map(|(name, absent)| absent.then_some(*name))
        .collect::<Vec<_>>()
        .join(", ")
}
