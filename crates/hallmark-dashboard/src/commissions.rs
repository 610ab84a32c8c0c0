//! Evaluation assignments as a bureau commissions them (issue #12): which hall, by which
//! rubric, which certified lead and assessors, on which planned days. They live with the sync
//! server (tablets fetch them from it); the server hands the dashboard this interface.

/// A hall of the server's registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryHall {
    pub id: String,
    pub name: String,
    pub region_code: String,
}

/// A device that presented its certificate to the server, as its certificate names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertifiedDevice {
    pub key: String,
    pub name: String,
    pub unit: String,
    pub lead: bool,
    pub assessor: bool,
    /// `YYYY-MM-DD`, the certificate's end.
    pub valid_until: String,
}

/// An assignment as held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commission {
    pub id: String,
    pub site: String,
    pub hall_id: Option<String>,
    pub rubric_id: String,
    pub lead_key: String,
    /// (key, name).
    pub members: Vec<(String, String)>,
    pub planned: Option<(String, String)>,
    pub created_at: String,
}

/// A new or changed assignment (members by key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommissionForm {
    pub id: String,
    pub hall_id: String,
    pub rubric_id: String,
    pub lead_key: String,
    pub members: Vec<String>,
    pub planned: Option<(String, String)>,
}

/// Why the server did not take an assignment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// The id is taken.
    Exists,
    /// The hall is not in the registry.
    UnknownHall,
    /// No assignment with this id (an edit).
    Missing,
    Other(String),
}

/// The server's assignments.
pub trait Commissions: Send + Sync {
    fn halls(&self) -> Result<Vec<RegistryHall>, String>;
    fn devices(&self) -> Result<Vec<CertifiedDevice>, String>;
    fn list(&self) -> Result<Vec<Commission>, String>;
    fn add(&self, f: &CommissionForm, names: &[(String, String)]) -> Result<(), Refused>;
    /// Changes the lead, members and planned days.
    fn update(&self, f: &CommissionForm, names: &[(String, String)]) -> Result<(), Refused>;
}
