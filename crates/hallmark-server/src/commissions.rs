//! The dashboard's assignments page (issue #12) over this server's backend: the same
//! assignments `hallmark assignment add` writes and tablets fetch.

use std::sync::Arc;

use hallmark_dashboard::commissions::{CertifiedDevice, Commission, CommissionForm, Commissions, Refused, RegistryHall};
use hallmark_trust::{certificate, Role};

use crate::embedded::Assignment;
use crate::Backend;

pub struct ServerCommissions(pub Arc<dyn Backend>);

impl Commissions for ServerCommissions {
    fn halls(&self) -> Result<Vec<RegistryHall>, String> {
        Ok(self.0.halls().map_err(|e| e.message)?.into_iter().map(|h| RegistryHall { id: h.id, name: h.name, region_code: h.region_code }).collect())
    }

    fn devices(&self) -> Result<Vec<CertifiedDevice>, String> {
        let mut out = Vec::new();
        for d in self.0.devices().map_err(|e| e.message)? {
            let Some(leaf) = d.chain.first() else { continue };
            let Some(der) = certificate::read_pem("a device certificate", leaf.as_bytes()).ok().and_then(|d| d.into_iter().next()) else { continue };
            let Ok(info) = certificate::info("a device certificate", der.as_ref()) else { continue };
            // An expired certificate cannot sign a panel's work: not offered.
            if info.not_after < chrono::Utc::now() {
                continue;
            }
            out.push(CertifiedDevice {
                key: d.public_key,
                name: info.name.clone(),
                unit: info.unit.clone(),
                lead: info.has_role(Role::Lead),
                assessor: info.has_role(Role::Assessor),
                valid_until: info.not_after.format("%Y-%m-%d").to_string(),
            });
        }
        Ok(out)
    }

    fn list(&self) -> Result<Vec<Commission>, String> {
        Ok(self
            .0
            .assignments()
            .map_err(|e| e.message)?
            .into_iter()
            .map(|(a, created_at)| Commission {
                id: a.id,
                site: a.site,
                hall_id: a.hall_id,
                rubric_id: a.rubric_id,
                lead_key: a.lead_key,
                members: a.members,
                planned: a.planned,
                created_at,
            })
            .collect())
    }

    fn add(&self, f: &CommissionForm, names: &[(String, String)]) -> Result<(), Refused> {
        self.0.add_assignment(&assignment(f, names), &crate::now()).map_err(|e| match e.code.as_str() {
            "exists" => Refused::Exists,
            "unknown_hall" => Refused::UnknownHall,
            _ => Refused::Other(e.message),
        })
    }

    fn update(&self, f: &CommissionForm, names: &[(String, String)]) -> Result<(), Refused> {
        match self.0.update_assignment(&assignment(f, names)) {
            Ok(true) => Ok(()),
            Ok(false) => Err(Refused::Missing),
            Err(e) => Err(Refused::Other(e.message)),
        }
    }
}

fn assignment(f: &CommissionForm, names: &[(String, String)]) -> Assignment {
    Assignment {
        id: f.id.clone(),
        site: String::new(),
        hall_id: Some(f.hall_id.clone()),
        rubric_id: f.rubric_id.clone(),
        lead_key: f.lead_key.clone(),
        members: names.to_vec(),
        planned: f.planned.clone(),
    }
}
