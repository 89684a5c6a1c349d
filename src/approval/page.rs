//! What the approval page may show and do, whatever it looks like: the link must be genuine, the
//! approval still open, and the plan still the version the person is looking at.

use chrono::{DateTime, Utc};

use crate::domain::approval::{Approval, ApprovalMethod, ApprovalStatus, PlanDigest};
use crate::domain::ids::ApprovalId;
use crate::domain::plan::TravelPlan;
use crate::domain::risk::RiskFlag;
use crate::ports::StoreError;

use super::{ApprovalFlowError, Approvals};

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
    /// The plan was edited after the link was issued (or after the page was opened).
    #[error("the plan changed after this page was opened")]
    PlanChanged,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Flow(String),
}

/// An open approval, ready to show.
#[derive(Debug, Clone)]
pub struct PageView {
    pub approval: Approval,
    pub plan: TravelPlan,
    pub risks: Vec<RiskFlag>,
    /// Goes back with the answer; ties it to this page and this plan version.
    pub csrf: String,
}

impl Approvals {
    /// The approval behind a page link, if the link is genuine and the approval still open.
    pub async fn open_page(&self, id: &str, token: &str) -> Result<PageView, PageError> {
        let (approval, plan) = self.open_approval(id, token).await?;
        let risks = self
            .guard
            .risks(&plan)
            .await
            .map_err(|e| PageError::Flow(e.to_string()))?;
        let csrf = self.secrets.csrf_token(&approval.id, &approval.digest);
        Ok(PageView {
            approval,
            plan,
            risks,
            csrf,
        })
    }

    /// Records the answer given on the page, for the plan version the page showed.
    pub async fn answer_on_page(
        &self,
        id: &str,
        token: &str,
        csrf: &str,
        shown: &PlanDigest,
        approve: bool,
    ) -> Result<Approval, PageError> {
        let id = ApprovalId::parse(id).map_err(|_| PageError::InvalidLink)?;
        if !self.secrets.verify_link(&id, token) {
            return Err(PageError::InvalidLink);
        }
        if !self.secrets.verify_csrf(&id, shown, csrf) {
            return Err(PageError::Forged);
        }
        let (approval, plan) = self.open_approval(id.as_str(), token).await?;
        if &approval.digest != shown {
            return Err(PageError::PlanChanged);
        }
        match self
            .decide(&plan, &approval, approve, ApprovalMethod::ApprovalPage)
            .await
        {
            Ok(decided) => Ok(decided),
            Err(ApprovalFlowError::Stale) => Err(PageError::PlanChanged),
            // Answered elsewhere (prompt, code, another tab) in the meantime: say how.
            Err(ApprovalFlowError::NotPending(id)) => {
                let now = self.store.approval(&id).await?;
                Err(PageError::AlreadyDecided {
                    status: now.as_ref().map_or(ApprovalStatus::Declined, |a| a.status),
                    at: now.and_then(|a| a.decided_at),
                })
            }
            Err(other) => Err(PageError::Flow(other.to_string())),
        }
    }

    async fn open_approval(
        &self,
        id: &str,
        token: &str,
    ) -> Result<(Approval, TravelPlan), PageError> {
        let id = ApprovalId::parse(id).map_err(|_| PageError::InvalidLink)?;
        if !self.secrets.verify_link(&id, token) {
            return Err(PageError::InvalidLink);
        }
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
        let plan = self
            .store
            .plan(&approval.owner, &approval.plan_id)
            .await?
            .ok_or(PageError::InvalidLink)?;
        let current = PlanDigest::of(&plan).map_err(|e| PageError::Flow(e.to_string()))?;
        if current != approval.digest {
            return Err(PageError::PlanChanged);
        }
        Ok((approval, plan))
    }
}
