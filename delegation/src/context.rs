//! What an engine sees about one call.

use std::collections::BTreeSet;

use rtfs_ir::ExecTarget;
use rtfs_security::SecurityContext;

/// Who is calling: permissions and tenant.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserContext {
    /// Sorted, so the decision-cache key is canonical.
    pub permissions: BTreeSet<String>,
    pub tenant: Option<String>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum NetworkStatus {
    #[default]
    Online,
    Metered,
    Offline,
}

impl NetworkStatus {
    pub fn parse(s: &str) -> Option<NetworkStatus> {
        match s {
            "online" => Some(NetworkStatus::Online),
            "metered" => Some(NetworkStatus::Metered),
            "offline" => Some(NetworkStatus::Offline),
            _ => None,
        }
    }
}

/// The device the runtime runs on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceContext {
    pub network: NetworkStatus,
    /// Battery charge in percent (0–100); `None` on mains power.
    pub battery_percent: Option<u8>,
}

impl Default for DeviceContext {
    fn default() -> Self {
        DeviceContext {
            network: NetworkStatus::Online,
            battery_percent: None,
        }
    }
}

/// One place a call could go: the local runtime, a model, or a capability provider.
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate {
    /// `local`, a model id, or a mesh provider id.
    pub id: String,
    pub target: ExecTarget,
    /// The call, its function and its arguments stay on this device.
    pub on_device: bool,
    /// Estimated cost of one call, in the policy's currency.
    pub cost: f64,
    /// Observed (or advertised) latency.
    pub latency_ms: f64,
    /// A capability provider (subject to the security context), not a model/local target.
    pub is_provider: bool,
}

impl Candidate {
    pub fn local() -> Candidate {
        Candidate {
            id: "local".into(),
            target: ExecTarget::LocalPure,
            on_device: true,
            cost: 0.0,
            latency_ms: 0.0,
            is_provider: false,
        }
    }
}

/// Everything needed to make a routing decision (Delegation Engine document, §3.3).
pub struct CallContext<'a> {
    /// `"my-func"`, or `"call"` for a capability call.
    pub function_symbol: &'a str,
    pub capability_id: Option<&'a str>,
    /// From the mesh (providers) and the policy (models), in their natural order.
    pub candidate_providers: &'a [Candidate],
    pub user_context: &'a UserContext,
    pub device_context: &'a DeviceContext,
    /// The function or an argument is marked `^{:privacy :sensitive}`.
    pub arguments_sensitive: bool,
    pub security: &'a SecurityContext,
}

impl CallContext<'_> {
    /// The name policies match against: the capability id, else the function symbol.
    pub fn subject(&self) -> &str {
        self.capability_id.unwrap_or(self.function_symbol)
    }
}
