//! Shared test harness: the real app wiring on temporary SQLite files, an in-process MCP client
//! playing the person, a clock the test moves, and readers of the sandbox ledger and the store.
#![allow(dead_code)] // each test binary uses part of the harness

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use itinera::adapters::sandbox::Sandbox;
use itinera::adapters::sandbox::faults::Faults;
use itinera::app::App;
use itinera::config::Config;
use itinera::domain::money::Money;
use itinera::orchestrator::RetryPolicy;
use itinera::ports::Clock;
use rmcp::model::{
    CallToolRequestParams, CallToolResult, ClientCapabilities, ClientConfig, ElicitRequestParams,
    ElicitResult, ElicitationAction, Implementation, ProtocolVersion,
};
use rmcp::service::{RequestContext, RunningService};
use rmcp::{ClientHandler, ClientLifecycleMode, ClientServiceExt, RoleClient, ServiceExt};
use serde_json::{Value, json};

/// A clock the test moves by hand.
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    pub fn advance(&self, by: Duration) {
        let mut now = self.0.lock().unwrap();
        *now += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}

/// What the person answers when the client shows them the approval prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Approve,
    Decline,
}

/// The MCP client, standing in for the person at the keyboard.
#[derive(Clone)]
pub struct Person {
    pub answer: Arc<Mutex<Answer>>,
    pub prompts: Arc<Mutex<Vec<String>>>,
    pub can_elicit: bool,
    /// The client supports URL-mode elicitation: it opens the page, where the person answers.
    pub opens_pages: bool,
    /// Pages the client opened.
    pub opened: Arc<Mutex<Vec<String>>>,
    /// The resources the server said were updated, in order.
    pub updated: Arc<Mutex<Vec<String>>>,
    /// Progress notifications received: (progress, message).
    pub progress: Arc<Mutex<Vec<(f64, String)>>>,
}

impl Person {
    pub fn new(answer: Answer) -> Person {
        Person {
            answer: Arc::new(Mutex::new(answer)),
            prompts: Arc::default(),
            can_elicit: true,
            opens_pages: false,
            opened: Arc::default(),
            updated: Arc::default(),
            progress: Arc::default(),
        }
    }

    /// A client that cannot show the person any prompt.
    pub fn headless() -> Person {
        Person {
            can_elicit: false,
            ..Person::new(Answer::Decline)
        }
    }

    /// A client that sends the person to approval pages, where they give `answer`.
    pub fn with_browser(answer: Answer) -> Person {
        Person {
            opens_pages: true,
            ..Person::new(answer)
        }
    }
}

impl ClientHandler for Person {
    fn get_info(&self) -> ClientConfig {
        let capabilities = if !self.can_elicit {
            ClientCapabilities::default()
        } else if self.opens_pages {
            ClientCapabilities::builder()
                .enable_elicitation_with(
                    rmcp::model::ElicitationCapability::new()
                        .with_form(Default::default())
                        .with_url(Default::default()),
                )
                .build()
        } else {
            ClientCapabilities::builder().enable_elicitation().build()
        };
        ClientConfig::new(capabilities, Implementation::new("itinera-test", "0.0.1"))
    }

    async fn on_resource_updated(
        &self,
        params: rmcp::model::ResourceUpdatedNotificationParam,
        _context: rmcp::service::NotificationContext<RoleClient>,
    ) {
        self.updated.lock().unwrap().push(params.uri);
    }

    async fn on_progress(
        &self,
        params: rmcp::model::ProgressNotificationParam,
        _context: rmcp::service::NotificationContext<RoleClient>,
    ) {
        self.progress
            .lock()
            .unwrap()
            .push((params.progress, params.message.unwrap_or_default()));
    }

    async fn create_elicitation(
        &self,
        request: ElicitRequestParams,
        _context: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, rmcp::ErrorData> {
        match &request {
            ElicitRequestParams::FormElicitationParams { message, .. } => {
                self.prompts.lock().unwrap().push(message.clone());
            }
            ElicitRequestParams::UrlElicitationParams { url, .. } => {
                self.opened.lock().unwrap().push(url.clone());
                let approve = *self.answer.lock().unwrap() == Answer::Approve;
                page::answer(url, approve, None).await;
                return Ok(ElicitResult::new(ElicitationAction::Accept));
            }
            _ => {}
        }
        Ok(match *self.answer.lock().unwrap() {
            Answer::Approve => {
                ElicitResult::new(ElicitationAction::Accept).with_content(json!({"approve": true}))
            }
            Answer::Decline => ElicitResult::new(ElicitationAction::Decline),
        })
    }
}

/// Which MCP lifecycle the client speaks.
#[derive(Debug, Clone, Copy)]
pub enum Lifecycle {
    Legacy,
    Modern,
}

pub struct Harness {
    pub dir: tempfile::TempDir,
    /// The PostgreSQL schema holding the order store, when not the SQLite file in `dir`.
    database: Option<Arc<db::TestDb>>,
    pub clock: Arc<ManualClock>,
    pub app: Arc<App>,
    /// The MCP endpoint, when the server is reached over HTTP (see `Options::http`).
    http: Option<HttpEndpoint>,
    /// The person's MCP client; the harness calls tools through it (`Deref`).
    user: User,
    pub person: Person,
    /// The out-of-band approval codes the server sent the person.
    pub codes: Arc<CodeInbox>,
}

pub struct Options {
    pub faults: &'static str,
    pub lifecycle: Lifecycle,
    pub person: Person,
    pub approval_ttl_minutes: i64,
    /// `ITINERA_AUTO_APPROVE_LIMIT`, e.g. "500 EUR".
    pub auto_approve_limit: Option<&'static str>,
    /// `ITINERA_SANDBOX_FAULT_SEED`.
    pub fault_seed: u64,
    /// How long a provider's open circuit refuses calls.
    pub breaker_cooldown: std::time::Duration,
    /// The person's spending limits.
    pub policy: itinera::domain::policy::SpendingPolicy,
    /// The risk rules; tests that are not about risk turn them off.
    pub risk: itinera::domain::risk::RiskRules,
    /// The payment provider (the sandbox unless a test brings a fake Stripe).
    pub payment: itinera::config::PaymentSettings,
    /// More payment providers after it, in the operator's order.
    pub fallback_payments: Vec<itinera::config::PaymentSettings>,
    /// The person the server acts for (the profile).
    pub profile: &'static str,
    /// Serve over the databases of another harness (another person on the same Itinera).
    pub shared_dir: Option<std::path::PathBuf>,
    /// Duffel (a local fake) selling the flights instead of the sandbox.
    pub duffel: Option<itinera::adapters::booking::duffel::DuffelSettings>,
    /// Amadeus (a local fake) selling the hotels instead of the sandbox.
    pub amadeus: Option<itinera::adapters::booking::amadeus::AmadeusSettings>,
    /// Avis (a local fake) selling cars instead of the sandbox.
    pub avis: Option<itinera::adapters::booking::avis::AvisSettings>,
    /// Booking.com (a local fake) selling hotels.
    pub booking_com: Option<itinera::adapters::booking::booking_com::BookingComSettings>,
    /// Viator (a local fake) selling the activities instead of the sandbox.
    pub viator: Option<itinera::adapters::booking::viator::ViatorSettings>,
    /// GetYourGuide (a local fake) selling activities too.
    pub gyg: Option<itinera::adapters::booking::getyourguide::GetYourGuideSettings>,
    /// Sandbox (default) or live.
    pub mode: itinera::config::Mode,
    /// Platforms the person signs in to (a local authorization server).
    pub platform_logins: Vec<itinera::platforms::OAuthSettings>,
    /// The order store on PostgreSQL instead of SQLite (see `Options::on_postgres`).
    pub database: Option<Arc<db::TestDb>>,
    /// Serve MCP over HTTP with these settings (listening on a free loopback port), the
    /// harness's client calling with `token`.
    pub http: Option<(itinera::http::HttpSettings, String)>,
    /// Where order notices go (webhooks, e-mail); tests run the dispatcher's passes.
    pub notify: itinera::config::NotifyConfig,
}

/// An HTTP server a harness started; it stops when the harness is dropped.
struct HttpEndpoint {
    url: String,
    _stop: tokio::sync::oneshot::Sender<()>,
}

/// An MCP client calling tools as one user: the harness's person, or another user of its HTTP
/// server.
pub struct User {
    pub client: RunningService<RoleClient, Person>,
}

impl std::ops::Deref for Harness {
    type Target = User;

    fn deref(&self) -> &User {
        &self.user
    }
}

impl User {
    pub async fn call(&self, tool: &str, arguments: Value) -> CallToolResult {
        call_tool(&self.client, tool, arguments).await
    }

    /// Calls a tool that must succeed and returns its structured output.
    pub async fn ok(&self, tool: &str, arguments: Value) -> Value {
        succeeded(tool, self.call(tool, arguments).await)
    }

    /// Calls a tool that must fail and returns its error text.
    pub async fn err(&self, tool: &str, arguments: Value) -> String {
        failed(tool, self.call(tool, arguments).await)
    }
}

impl Options {
    /// These options with the order store in a PostgreSQL schema of the test's own; `None`
    /// (said loudly) when no server answers and none is required.
    pub async fn on_postgres(self) -> Option<Options> {
        let database = db::TestDb::postgres().await?;
        Some(Options {
            database: Some(Arc::new(database)),
            ..self
        })
    }
}

/// Where the server sends out-of-band approval codes in tests: kept for the test to read, as
/// the person would read their log.
#[derive(Debug, Default)]
pub struct CodeInbox(Mutex<Vec<itinera::approval::CodeNotice>>);

impl CodeInbox {
    pub fn all(&self) -> Vec<itinera::approval::CodeNotice> {
        self.0.lock().unwrap().clone()
    }

    /// The latest code sent.
    pub fn latest(&self) -> itinera::approval::CodeNotice {
        self.all().pop().expect("no approval code was sent")
    }
}

impl itinera::approval::CodeChannel for CodeInbox {
    fn deliver(&self, notice: &itinera::approval::CodeNotice) {
        self.0.lock().unwrap().push(notice.clone());
    }
}

impl Default for Options {
    fn default() -> Self {
        Options {
            faults: "",
            lifecycle: Lifecycle::Legacy,
            person: Person::new(Answer::Approve),
            approval_ttl_minutes: 30,
            auto_approve_limit: None,
            fault_seed: 0,
            breaker_cooldown: std::time::Duration::from_millis(20),
            policy: Default::default(),
            risk: itinera::domain::risk::RiskRules::off(),
            payment: itinera::config::PaymentSettings::Sandbox,
            fallback_payments: Vec::new(),
            profile: "local",
            shared_dir: None,
            duffel: None,
            avis: None,
            amadeus: None,
            booking_com: None,
            viator: None,
            gyg: None,
            mode: itinera::config::Mode::Sandbox,
            platform_logins: Vec::new(),
            database: None,
            http: None,
            notify: Default::default(),
        }
    }
}

impl Harness {
    pub async fn start() -> Harness {
        Harness::with(Options::default()).await
    }

    pub async fn with(options: Options) -> Harness {
        Harness::start_in(tempfile::tempdir().unwrap(), options).await
    }

    /// A server over the databases in `dir`, as after a restart with other settings.
    pub async fn start_in(dir: tempfile::TempDir, options: Options) -> Harness {
        let mut config = Config::in_dir(options.shared_dir.as_deref().unwrap_or(dir.path()));
        config.profile = options.profile.to_string();
        config.sandbox.faults = Faults::parse(options.faults).unwrap();
        config.sandbox.fault_seed = options.fault_seed;
        config.policy = options.policy;
        config.risk = options.risk;
        config.duffel = options.duffel;
        config.amadeus = options.amadeus;
        config.booking_com = options.booking_com;
        config.avis = options.avis;
        config.viator = options.viator;
        config.getyourguide = options.gyg;
        config.mode = options.mode;
        config.platform_logins = options.platform_logins;
        config.notify = options.notify;
        if let Some(database) = &options.database {
            config.database_url = database.url();
        }
        config.payments = std::iter::once(options.payment)
            .chain(options.fallback_payments)
            .collect();
        let codes = Arc::new(CodeInbox::default());
        config.code_channel = codes.clone();
        config.approvals.ttl = Duration::minutes(options.approval_ttl_minutes);
        // Retries in tests back off for milliseconds, not seconds.
        config.retry = RetryPolicy {
            base_delay: std::time::Duration::from_millis(1),
            max_delay: std::time::Duration::from_millis(20),
            budget: std::time::Duration::from_secs(2),
            breaker_cooldown: options.breaker_cooldown,
            ..RetryPolicy::default()
        };
        config.approvals.auto_approve_limit = options.auto_approve_limit.map(|limit| {
            let (amount, currency) = limit.split_once(' ').unwrap();
            Money::parse(amount, currency).unwrap()
        });
        let clock = Arc::new(ManualClock(Mutex::new(Utc::now())));
        let app = Arc::new(App::start(&config, clock.clone()).await.unwrap());
        let person = options.person;
        if let Some((settings, token)) = options.http {
            let http = serve_http(&app, settings).await;
            let client = http_client(&http.url, &token, person.clone()).await;
            return Harness {
                dir,
                database: options.database,
                clock,
                app,
                http: Some(http),
                user: User { client },
                person,
                codes,
            };
        }
        let (server_io, client_io) = tokio::io::duplex(1 << 20);
        let server = app.server();
        tokio::spawn(async move {
            if let Ok(running) = server.serve(server_io).await {
                let _ = running.waiting().await;
            }
        });
        let client = match options.lifecycle {
            Lifecycle::Legacy => person.clone().serve(client_io).await.unwrap(),
            Lifecycle::Modern => person
                .clone()
                .serve_with_lifecycle(
                    client_io,
                    ClientLifecycleMode::Discover {
                        preferred_versions: vec![ProtocolVersion::V_2026_07_28],
                    },
                )
                .await
                .unwrap(),
        };
        Harness {
            dir,
            database: options.database,
            clock,
            app,
            http: None,
            user: User { client },
            person,
            codes,
        }
    }

    /// The MCP endpoint of this harness's HTTP server.
    pub fn http_url(&self) -> &str {
        &self.http.as_ref().expect("the harness serves HTTP").url
    }

    /// Another user of this harness's HTTP server, calling with `token`.
    pub async fn http_user(&self, token: &str) -> User {
        User {
            client: http_client(self.http_url(), token, Person::new(Answer::Approve)).await,
        }
    }

    pub fn sandbox(&self) -> &Arc<Sandbox> {
        self.app.sandbox()
    }

    /// Another person using the same Itinera (same databases), as `profile`.
    pub async fn another_person(&self, profile: &'static str) -> Harness {
        self.beside(Options {
            profile,
            ..Options::default()
        })
        .await
    }

    /// A second server over this harness's databases, with other options (another profile).
    pub async fn beside(&self, options: Options) -> Harness {
        Harness::with(Options {
            shared_dir: Some(self.dir.path().to_path_buf()),
            database: options.database.clone().or_else(|| self.database.clone()),
            ..options
        })
        .await
    }

    /// Row count of a table of the sandbox's own ledger.
    pub async fn ledger_rows(&self, table: &str) -> i64 {
        let url = format!(
            "sqlite://{}",
            self.dir.path().join("sandbox-ledger.db").display()
        );
        count_rows(&url, table).await
    }

    /// Every booking the sandbox provider holds, oldest first.
    pub async fn ledger_bookings(&self) -> Vec<itinera::adapters::sandbox::ledger::LedgerBooking> {
        self.sandbox().ledger().bookings().await.unwrap()
    }

    pub fn set_faults(&self, spec: &str) {
        self.sandbox().set_faults(Faults::parse(spec).unwrap());
    }

    pub fn today(&self) -> NaiveDate {
        self.clock.now().date_naive()
    }

    /// A date `days` from today, as the tools want it.
    pub fn day(&self, days: i64) -> String {
        (self.today() + Duration::days(days))
            .format("%Y-%m-%d")
            .to_string()
    }

    /// Searches all four kinds in Paris and returns one offer id of each, in the order
    /// flight, hotel, activity, car; refundable offers are preferred so refunds are visible.
    pub async fn paris_offers(&self) -> Vec<Value> {
        self.paris_offers_in("EUR").await
    }

    /// One offer of each kind for Paris, priced in `currency` (refundable where there is one).
    pub async fn paris_offers_in(&self, currency: &str) -> Vec<Value> {
        let flights = self
            .ok("search_flights", json!({"origin": "LHR", "destination": "CDG", "date": self.day(20), "currency": currency}))
            .await;
        let hotels = self
            .ok("search_hotels", json!({"city": "Paris", "check_in": self.day(20), "check_out": self.day(23), "currency": currency}))
            .await;
        let activities = self
            .ok(
                "search_activities",
                json!({"city": "PAR", "date": self.day(21), "currency": currency}),
            )
            .await;
        let cars = self
            .ok(
                "search_car_rentals",
                json!({"city": "Paris", "pick_up_date": self.day(21), "drop_off_date": self.day(23), "currency": currency}),
            )
            .await;
        [flights, hotels, activities, cars]
            .into_iter()
            .map(|found| {
                let offers = found["offers"].as_array().unwrap().clone();
                offers
                    .iter()
                    .find(|offer| offer["cancellation"]["type"] == "refundable")
                    .unwrap_or(&offers[0])
                    .clone()
            })
            .collect()
    }

    /// Plans the four Paris offers with `priorities`, paid by `method` after the `split` parts
    /// (payment_split): the plan and the offers.
    pub async fn split_plan(
        &self,
        priorities: &[&str],
        method: &str,
        split: Value,
    ) -> (Value, Vec<Value>) {
        let offers = self.paris_offers().await;
        let items: Vec<Value> = offers
            .iter()
            .zip(priorities)
            .map(|(offer, priority)| json!({"offer_id": offer["id"], "priority": priority}))
            .collect();
        let plan = self
            .ok(
                "create_travel_plan",
                json!({
                    "title": "Paris, half on the voucher",
                    "travellers": [{"given_name": "Ada", "family_name": "Lovelace"}],
                    "payment_method": method,
                    "payment_split": split,
                    "items": items,
                }),
            )
            .await;
        (plan, offers)
    }

    /// Creates a plan from offers with the given priorities and payment method.
    pub async fn plan_of(&self, offers: &[(Value, &str)], payment_method: &str) -> Value {
        let items: Vec<Value> = offers
            .iter()
            .map(|(offer, priority)| json!({"offer_id": offer["id"], "priority": priority}))
            .collect();
        self.ok(
            "create_travel_plan",
            json!({
                "title": "Paris in December",
                "travellers": [{"given_name": "Ada", "family_name": "Lovelace"}],
                "payment_method": payment_method,
                "items": items,
            }),
        )
        .await
    }

    /// Creates the plan `create_travel_plan` is given, has the person approve it: its id.
    pub async fn approved_plan(&self, plan: Value) -> String {
        let plan = self.ok("create_travel_plan", plan).await;
        let plan_id = plan["plan_id"].as_str().unwrap().to_string();
        let approval = self
            .ok("confirm_travel_plan", json!({"plan_id": plan_id}))
            .await;
        assert_eq!(approval["status"], "approved", "{approval}");
        plan_id
    }

    /// Plans the offers with their priorities, has the person approve, and executes: the order.
    pub async fn execute(&self, offers: &[(Value, &str)], payment_method: &str) -> Value {
        let plan = self.plan_of(offers, payment_method).await;
        self.ok("confirm_travel_plan", json!({"plan_id": plan["plan_id"]}))
            .await;
        self.ok("execute_travel_plan", json!({"plan_id": plan["plan_id"]}))
            .await
    }

    /// Executes an approved plan that must fail: its failure, as the person reads it.
    pub async fn failed_execution(&self, plan_id: &str) -> String {
        let order = self
            .ok("execute_travel_plan", json!({"plan_id": plan_id}))
            .await;
        assert_eq!(order["status"], "failed", "{order}");
        order["failure"].as_str().unwrap().to_string()
    }

    /// Paris activities for one person in 20 days, in EUR; every offer must come from `provider`.
    pub async fn paris_activities_from(&self, provider: &str) -> Vec<Value> {
        let found = self
            .ok(
                "search_activities",
                json!({"city": "Paris", "date": self.day(20), "participants": 1, "currency": "EUR"}),
            )
            .await;
        let offers = found["offers"].as_array().unwrap().clone();
        assert!(
            !offers.is_empty() && offers.iter().all(|o| o["provider"] == provider),
            "activities come from {provider} only: {found}"
        );
        offers
    }

    /// The Eiffel Tower from `provider` and a sandbox hotel in Paris, approved: the plan id and
    /// the activity's offer.
    pub async fn approved_eiffel_trip(&self, provider: &str) -> (String, Value) {
        let activity = self
            .paris_activities_from(provider)
            .await
            .into_iter()
            .find(|o| o["title"].as_str().unwrap().starts_with("Eiffel"))
            .unwrap();
        let hotels = self
            .ok(
                "search_hotels",
                json!({"city": "Paris", "check_in": self.day(20), "check_out": self.day(22), "currency": "EUR"}),
            )
            .await;
        assert_eq!(hotels["offers"][0]["provider"], "sandbox");
        let plan_id = self
            .approved_plan(json!({
                "title": format!("Paris with {provider}"),
                "travellers": [{"given_name": "Ada", "family_name": "Lovelace", "email": "ada@example.com", "phone": "+33 6 12 34 56 78"}],
                "payment_method": "pm_sandbox_visa",
                "items": [{"offer_id": hotels["offers"][0]["id"]}, {"offer_id": activity["id"]}],
            }))
            .await;
        (plan_id, activity)
    }

    /// Search, plan all four kinds as must-haves, confirm (the person approves): the plan id.
    pub async fn approved_paris_plan(&self, payment_method: &str) -> (String, Vec<Value>) {
        self.approved_paris_plan_in(payment_method, "EUR").await
    }

    /// The same, priced in `currency`.
    pub async fn approved_paris_plan_in(
        &self,
        payment_method: &str,
        currency: &str,
    ) -> (String, Vec<Value>) {
        let offers = self.paris_offers_in(currency).await;
        let with_priority: Vec<(Value, &str)> =
            offers.iter().map(|o| (o.clone(), "must_have")).collect();
        let plan = self.plan_of(&with_priority, payment_method).await;
        let plan_id = plan["plan_id"].as_str().unwrap().to_string();
        let approval = self
            .ok("confirm_travel_plan", json!({"plan_id": plan_id}))
            .await;
        assert_eq!(approval["status"], "approved", "{approval}");
        (plan_id, offers)
    }

    pub fn store_url(&self) -> String {
        match &self.database {
            Some(database) => database.url(),
            None => format!("sqlite://{}", self.dir.path().join("itinera.db").display()),
        }
    }

    /// Row count of a table of the order store.
    pub async fn rows(&self, table: &str) -> i64 {
        count_rows(&self.store_url(), table).await
    }
}

async fn serve_http(app: &Arc<App>, settings: itinera::http::HttpSettings) -> HttpEndpoint {
    let server = itinera::http::HttpServer::bind(settings).await.unwrap();
    let url = format!("http://{}/mcp", server.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let app = Arc::clone(app);
    tokio::spawn(async move {
        let stopped = async move {
            let _ = stopped.await;
        };
        server.serve(app, stopped).await
    });
    HttpEndpoint { url, _stop: stop }
}

/// An MCP client over Streamable HTTP to `url`, sending `token`.
pub async fn http_client(
    url: &str,
    token: &str,
    person: Person,
) -> RunningService<RoleClient, Person> {
    use rmcp::transport::StreamableHttpClientTransport;
    use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
    let transport = StreamableHttpClientTransport::from_config(
        StreamableHttpClientTransportConfig::with_uri(url.to_string())
            .auth_header(token.to_string()),
    );
    person.serve(transport).await.unwrap()
}

/// Spawns `command` (an `itinera serve --http …`), waits for it to say where it listens, and
/// keeps reading its log (a full pipe would block it): the process and its MCP endpoint.
pub async fn spawn_http_server(
    mut command: tokio::process::Command,
) -> (tokio::process::Child, String) {
    use tokio::io::AsyncBufReadExt;
    let mut child = command
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stderr = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let url = loop {
        let line = tokio::time::timeout(std::time::Duration::from_secs(60), stderr.next_line())
            .await
            .expect("the server says where it listens")
            .unwrap()
            .expect("the server exited before listening");
        if let Some(url) = line.strip_prefix("itinera: serving MCP at ") {
            break url.to_string();
        }
    };
    tokio::spawn(async move { while let Ok(Some(_)) = stderr.next_line().await {} });
    (child, url)
}

pub async fn call_tool(
    client: &RunningService<RoleClient, Person>,
    tool: &str,
    arguments: Value,
) -> CallToolResult {
    let Value::Object(arguments) = arguments else {
        panic!("arguments must be an object")
    };
    client
        .call_tool(CallToolRequestParams::new(tool.to_string()).with_arguments(arguments))
        .await
        .unwrap_or_else(|e| panic!("{tool} failed at the protocol level: {e}"))
}

/// The structured output of a call that must have succeeded.
pub fn succeeded(tool: &str, result: CallToolResult) -> Value {
    assert_ne!(
        result.is_error,
        Some(true),
        "{tool} failed: {}",
        text(&result)
    );
    result
        .structured_content
        .clone()
        .or_else(|| serde_json::from_str(&text(&result)).ok())
        .unwrap_or_else(|| panic!("{tool} returned no structured content: {}", text(&result)))
}

/// The error text of a call that must have failed.
pub fn failed(tool: &str, result: CallToolResult) -> String {
    assert_eq!(
        result.is_error,
        Some(true),
        "{tool} should have failed but returned {}",
        text(&result)
    );
    text(&result)
}

async fn count_rows(url: &str, table: &str) -> i64 {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(url).await.unwrap();
    let count: i64 =
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
            .fetch_one(&pool)
            .await
            .unwrap();
    pool.close().await;
    count
}

pub mod amadeus_fake;
pub mod antom_fake;
pub mod auth_server;
pub mod avis_fake;
pub mod booking_attempt;
pub mod booking_com_fake;
pub mod db;
pub mod duffel_fake;
pub mod fake_http;
pub mod getyourguide_fake;
pub mod oauth_server;
pub mod paypal_fake;
pub mod rental;
pub mod smtp_server;
pub mod stripe_fake;
pub mod viator_fake;
pub mod webhook_receiver;
pub mod wechat_fake;

/// The approval page, as the person's browser uses it (the browser test drives a real one).
pub mod page {
    /// A page as fetched: status, body, and the form's hidden fields.
    pub struct Fetched {
        pub status: u16,
        pub body: String,
        /// The `X-Frame-Options` header.
        pub headers_frame: String,
    }

    impl Fetched {
        /// The value of a hidden form field.
        pub fn field(&self, name: &str) -> String {
            let marker = format!("name=\"{name}\" value=\"");
            let start = self
                .body
                .find(&marker)
                .unwrap_or_else(|| panic!("no {name} field in: {}", self.body))
                + marker.len();
            let end = self.body[start..].find('"').unwrap() + start;
            self.body[start..end].to_string()
        }
    }

    pub async fn get(url: &str, language: &str) -> Fetched {
        let response = reqwest::Client::new()
            .get(url)
            .header("accept-language", language)
            .send()
            .await
            .unwrap();
        read(response).await
    }

    /// Posts an answer with the given form fields, as a browser on the page would.
    pub async fn post(url: &str, fields: &[(&str, &str)], origin: Option<&str>) -> Fetched {
        let mut request = reqwest::Client::new().post(url).form(fields);
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        let response = request.send().await.unwrap();
        read(response).await
    }

    async fn read(response: reqwest::Response) -> Fetched {
        let status = response.status().as_u16();
        let headers_frame = response
            .headers()
            .get("x-frame-options")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        Fetched {
            status,
            body: response.text().await.unwrap(),
            headers_frame,
        }
    }

    /// The page's own origin, as a browser sends it.
    pub fn origin(url: &str) -> String {
        let rest = url.strip_prefix("http://").unwrap();
        format!("http://{}", &rest[..rest.find('/').unwrap()])
    }

    /// Opens the page and presses Approve or Decline, as the person would, typing `code` if
    /// given.
    pub async fn answer(url: &str, approve: bool, code: Option<&str>) -> Fetched {
        let page = get(url, "en").await;
        assert_eq!(page.status, 200, "{}", page.body);
        let decision = if approve { "approve" } else { "decline" };
        let (csrf, digest) = (page.field("csrf"), page.field("digest"));
        let mut fields = vec![
            ("csrf", csrf.as_str()),
            ("digest", digest.as_str()),
            ("decision", decision),
        ];
        fields.extend(code.map(|code| ("code", code)));
        post(url, &fields, Some(&origin(url))).await
    }
}

pub fn text(result: &CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn money(value: &Value) -> Money {
    Money::parse(
        value["amount"].as_str().unwrap(),
        value["currency"].as_str().unwrap(),
    )
    .unwrap()
}

/// What an item's policy refunds if cancelled at `at`, computed independently of the server.
pub fn expected_refund(offer: &Value, at: DateTime<Utc>) -> Money {
    let price = money(&offer["price"]);
    let policy = &offer["cancellation"];
    if policy["type"] == "refundable_until" {
        let deadline: DateTime<Utc> = policy["deadline"].as_str().unwrap().parse().unwrap();
        return if at <= deadline {
            price.saturating_sub(&money(&policy["penalty"])).unwrap()
        } else {
            Money::zero(price.currency())
        };
    }
    if policy["type"] != "refundable" {
        return Money::zero(price.currency());
    }
    let free_until: DateTime<Utc> = policy["free_until"].as_str().unwrap().parse().unwrap();
    if at <= free_until {
        price
    } else {
        price.saturating_sub(&money(&policy["penalty"])).unwrap()
    }
}

pub fn sum(amounts: impl IntoIterator<Item = Money>) -> Money {
    amounts
        .into_iter()
        .reduce(|a, b| a.checked_add(&b).unwrap())
        .unwrap()
}

/// Checks the order store against the sandbox ledger, as an auditor would: every order settled;
/// a capture only with bookings and equal to them; nothing booked or held on a failed order; no
/// offer booked twice; no payment captured twice. The store is the one `Config::in_dir` finds in
/// `data_dir`, with its key file.
pub async fn assert_store_matches_ledger(
    data_dir: &std::path::Path,
    ledger: &itinera::adapters::sandbox::ledger::SandboxLedger,
) {
    assert_owners_orders_match_ledger(&Config::in_dir(data_dir), ledger, &["local"]).await;
}

impl Harness {
    /// `assert_store_matches_ledger` on this harness's store and sandbox.
    pub async fn assert_store_matches_ledger(&self) {
        let mut config = Config::in_dir(self.dir.path());
        config.database_url = self.store_url();
        assert_owners_orders_match_ledger(&config, self.sandbox().ledger(), &["local"]).await;
    }
}

/// `assert_store_matches_ledger` over the orders of `owners` in the store `config` names.
pub async fn assert_owners_orders_match_ledger(
    config: &Config,
    ledger: &itinera::adapters::sandbox::ledger::SandboxLedger,
    owners: &[&str],
) {
    use itinera::domain::order::{ItemStatus, OrderStatus};
    use itinera::ports::Store;
    let store = itinera::app::open_store(config).await.unwrap();
    let filter = itinera::ports::store::OrderFilter {
        limit: 10_000,
        ..Default::default()
    };
    let mut orders = Vec::new();
    for owner in owners {
        orders.extend(
            store
                .list_orders(&itinera::domain::ids::OwnerId::new(*owner), &filter)
                .await
                .unwrap(),
        );
    }
    let bookings = ledger.bookings().await.unwrap();
    let mut per_offer = std::collections::HashMap::<String, usize>::new();
    for booking in &bookings {
        *per_offer.entry(booking.offer_id.clone()).or_default() += 1;
    }
    assert!(
        per_offer.values().all(|&n| n == 1),
        "an offer was booked twice: {per_offer:?}"
    );
    for order in &orders {
        let context = format!("order {} ({})", order.id, order.status);
        assert!(
            matches!(
                order.status,
                OrderStatus::Confirmed | OrderStatus::PartiallyConfirmed | OrderStatus::Failed
            ),
            "{context} did not settle"
        );
        let live: Vec<_> = order
            .items
            .iter()
            .filter_map(|item| {
                bookings
                    .iter()
                    .find(|b| b.offer_id == item.offer_id.as_str())
                    .map(|b| (item, b))
            })
            .collect();
        let payment = match &order.payment {
            Some(payment) => ledger.payment(&payment.reference).await.unwrap(),
            None => None,
        };
        let captures = match &payment {
            Some(payment) => ledger
                .movements(&payment.id)
                .await
                .unwrap()
                .into_iter()
                .filter(|m| m.kind == "capture")
                .count(),
            None => 0,
        };
        assert!(captures <= 1, "{context} was captured {captures} times");
        match order.status {
            OrderStatus::Failed => {
                for (item, booking) in &live {
                    assert_eq!(
                        booking.status, "cancelled",
                        "{context}: {} is still booked",
                        item.title
                    );
                }
                if let Some(payment) = payment {
                    assert!(
                        payment.captured.is_zero(),
                        "{context} captured {}",
                        payment.captured
                    );
                    assert!(
                        matches!(payment.status.as_str(), "voided" | "failed"),
                        "{context}: payment {}",
                        payment.status
                    );
                }
            }
            _ => {
                let payment =
                    payment.unwrap_or_else(|| panic!("{context} has no payment at the provider"));
                let booked: Vec<_> = order
                    .items
                    .iter()
                    .filter(|i| i.status == ItemStatus::Booked)
                    .collect();
                let booked_total = sum(booked.iter().map(|i| i.price));
                assert_eq!(payment.status, "captured", "{context}");
                assert_eq!(
                    payment.captured, booked_total,
                    "{context}: captured differs from the bookings"
                );
                assert_eq!(
                    order.captured, booked_total,
                    "{context}: the order's record differs"
                );
                for item in &booked {
                    let booking = bookings
                        .iter()
                        .find(|b| b.offer_id == item.offer_id.as_str());
                    assert_eq!(
                        booking.map(|b| b.status.as_str()),
                        Some("booked"),
                        "{context}: {} not booked",
                        item.title
                    );
                }
                for (item, booking) in &live {
                    if item.status != ItemStatus::Booked {
                        assert_eq!(
                            booking.status, "cancelled",
                            "{context}: {} left booked",
                            item.title
                        );
                    }
                }
            }
        }
    }
}
