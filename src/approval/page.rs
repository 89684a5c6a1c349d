//! What the approval page may show and do, whatever it looks like: the link must be genuine and
//! the latest for its plan, the approval still open, the plan still the version the person is
//! looking at, and the risks still the ones they are shown. A link that passed through the model
//! approves only with the out-of-band code.

use chrono::{DateTime, Utc};

use crate::domain::approval::{Approval, ApprovalMethod, ApprovalStatus, PlanDigest};
use crate::domain::ids::ApprovalId;
use crate::domain::plan::{PlanError, TravelPlan};
use crate::domain::risk::RiskFlag;
use crate::ports::StoreError;
use crate::spending::GuardError;

use super::{ApprovalFlowError, Approvals, Audience};

/// Why the page cannot show or take an answer. The page words each case for the person.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// Unknown approval, wrong token, or a link from before a restart.
    #[error("this approval link is not valid")]
    InvalidLink,
    /// The form did not come from the page this server served.
    #[error("the form could not be verified")]
    Forged,
    #[error("this approval was already {}", status.as_str())]
    AlreadyDecided {
        status: ApprovalStatus,
        at: Option<DateTime<Utc>>,
    },
    #[error("this approval expired at {0}")]
    Expired(DateTime<Utc>),
    /// The plan was edited after the link was issued (or after the page was opened), or the
    /// assistant asked again and a newer link exists.
    #[error("the plan changed after this page was opened")]
    PlanChanged,
    /// A risk appeared that the page did not show: the person must be asked again.
    #[error("a new risk appeared")]
    NewRisk,
    #[error("the one-time code is missing")]
    CodeNeeded,
    #[error("the one-time code is wrong; {0} attempt(s) left")]
    WrongCode(u32),
    #[error("too many wrong codes")]
    CodeLocked,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Guard(#[from] GuardError),
    #[error(transparent)]
    Plan(#[from] PlanError),
}

impl From<ApprovalFlowError> for PageError {
    fn from(error: ApprovalFlowError) -> Self {
        match error {
            ApprovalFlowError::Stale => PageError::PlanChanged,
            ApprovalFlowError::WrongCode { attempts_left } => PageError::WrongCode(attempts_left),
            ApprovalFlowError::CodeLocked => PageError::CodeLocked,
            ApprovalFlowError::NotPending(_) | ApprovalFlowError::NoCodeExpected => {
                PageError::AlreadyDecided {
                    status: ApprovalStatus::Declined,
                    at: None,
                }
            }
            ApprovalFlowError::Plan(error) => PageError::Plan(error),
            ApprovalFlowError::Policy(error) => PageError::Guard(error),
            ApprovalFlowError::Store(error) => PageError::Store(error),
        }
    }
}

/// An open approval, ready to show.
#[derive(Debug, Clone)]
pub struct PageView {
    pub approval: Approval,
    pub plan: TravelPlan,
    pub risks: Vec<RiskFlag>,
    /// Goes back with the answer; ties it to this page and this plan version.
    pub csrf: String,
    /// The link passed through the model: approving takes the out-of-band code.
    pub needs_code: bool,
}

/// The person's answer as the page's form sends it.
#[derive(Debug)]
pub struct PageAnswer<'a> {
    pub csrf: &'a str,
    /// The plan version the page showed.
    pub shown: PlanDigest,
    pub approve: bool,
    pub code: Option<&'a str>,
}

impl Approvals {
    /// The approval behind a page link, if the link is genuine and the approval still open.
    pub async fn open_page(&self, id: &str, token: &str) -> Result<PageView, PageError> {
        let (approval, plan, audience) = self.open_approval(id, token).await?;
        let risks = self.guard.risks(&plan).await?;
        if !approval.unacknowledged(&risks).is_empty() {
            return Err(PageError::NewRisk);
        }
        let csrf = self.secrets.csrf_token(&approval.id, &approval.digest);
        Ok(PageView {
            approval,
            plan,
            risks,
            csrf,
            needs_code: audience == Audience::Assistant,
        })
    }

    /// Records the answer given on the page, for the plan version the page showed.
    pub async fn answer_on_page(
        &self,
        id: &str,
        token: &str,
        answer: PageAnswer<'_>,
    ) -> Result<Approval, PageError> {
        let (approval, plan, audience) = self.open_approval(id, token).await?;
        if !self
            .secrets
            .verify_csrf(&approval.id, &answer.shown, answer.csrf)
        {
            return Err(PageError::Forged);
        }
        if approval.digest != answer.shown {
            return Err(PageError::PlanChanged);
        }
        if answer.approve {
            if !approval
                .unacknowledged(&self.guard.risks(&plan).await?)
                .is_empty()
            {
                return Err(PageError::NewRisk);
            }
            if audience == Audience::Assistant {
                let code = answer.code.filter(|code| !code.trim().is_empty());
                self.redeem_code(&approval, code.ok_or(PageError::CodeNeeded)?)
                    .await?;
            }
        }
        match self
            .decide(&approval, answer.approve, ApprovalMethod::ApprovalPage)
            .await
        {
            Ok(decided) => Ok(decided),
            // Answered elsewhere (prompt, code, another tab) in the meantime: say how.
            Err(ApprovalFlowError::NotPending(id)) => {
                let now = self.store.approval(&id).await?;
                Err(PageError::AlreadyDecided {
                    status: now.as_ref().map_or(ApprovalStatus::Declined, |a| a.status),
                    at: now.and_then(|a| a.decided_at),
                })
            }
            Err(other) => Err(other.into()),
        }
    }

    /// The approval behind a genuine link, still open and the latest for its plan, with the
    /// plan (still the version approved) and whom the link was minted for.
    async fn open_approval(
        &self,
        id: &str,
        token: &str,
    ) -> Result<(Approval, TravelPlan, Audience), PageError> {
        let id = ApprovalId::parse(id).map_err(|_| PageError::InvalidLink)?;
        let audience = self
            .secrets
            .verify_link(&id, token)
            .ok_or(PageError::InvalidLink)?;
        let approval = self
            .store
            .approval(&id)
            .await?
            .ok_or(PageError::InvalidLink)?;
        if approval.status != ApprovalStatus::Pending {
            return Err(PageError::AlreadyDecided {
                status: approval.status,
                at: approval.decided_at,
            });
        }
        if self.clock.now() >= approval.expires_at {
            return Err(PageError::Expired(approval.expires_at));
        }
        let latest = self
            .store
            .latest_approval(&approval.owner, &approval.plan_id)
            .await?;
        if latest.is_none_or(|latest| latest.id != approval.id) {
            return Err(PageError::PlanChanged);
        }
        let plan = self
            .store
            .plan(&approval.owner, &approval.plan_id)
            .await?
            .ok_or(PageError::InvalidLink)?;
        if PlanDigest::of(&plan)? != approval.digest {
            return Err(PageError::PlanChanged);
        }
        Ok((approval, plan, audience))
    }
}
