//! Bureau staff who log in to the dashboard (issue #12), their sessions and the audit log. The
//! password hashing is the dashboard's (argon2id); this module keeps the PHC strings, the
//! SHA-256 of session tokens (never the tokens) and who did what.

use postgres::Client;

use crate::{RecordsError, Result};

/// What a member of staff may see and do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Every hall of the province; assignments.
    Province,
    /// The halls of one city (by 行政区划代码); assignments of them.
    City,
    /// Reads and exports everything in its region; changes nothing.
    Auditor,
}

impl Role {
    pub fn parse(s: &str) -> Result<Role> {
        match s {
            "province" => Ok(Role::Province),
            "city" => Ok(Role::City),
            "auditor" => Ok(Role::Auditor),
            other => Err(RecordsError::Invalid(format!("role '{other}' is none of province, city, auditor"))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Province => "province",
            Role::City => "city",
            Role::Auditor => "auditor",
        }
    }

    /// 省级 / 市级 / 审计（只读）.
    pub fn chinese(self) -> &'static str {
        match self {
            Role::Province => "省级",
            Role::City => "市级",
            Role::Auditor => "审计（只读）",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staff {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub region_code: String,
    pub admin: bool,
    pub disabled: bool,
}

impl Staff {
    /// The 行政区划代码 prefix of the halls this person sees: a province's two digits, a
    /// city's four, a county's six.
    pub fn region_prefix(&self) -> &str {
        prefix_of(&self.region_code)
    }

    /// Whether a hall under `region_code` is this person's to see.
    pub fn sees(&self, region_code: &str) -> bool {
        region_code.starts_with(self.region_prefix())
    }

    /// Whether this person reads the audit log, which names halls, reports and users of the
    /// whole province: admins and the province's own auditors, not a city's.
    pub fn reads_audit_log(&self) -> bool {
        self.admin || (self.role == Role::Auditor && self.region_prefix().len() == 2)
    }

    /// Whether this person may change records (assignments): not an auditor.
    pub fn may_edit(&self) -> bool {
        self.role != Role::Auditor
    }
}

/// "320000" → "32", "320500" → "3205", "320582" → "320582".
pub fn prefix_of(code: &str) -> &str {
    if code.ends_with("0000") {
        &code[..2.min(code.len())]
    } else if code.ends_with("00") {
        &code[..4.min(code.len())]
    } else {
        code
    }
}

/// Checks who may be created: a city user's code is a city's (PPCC00), a province user's a
/// province's (PP0000); an auditor's either.
pub fn check_scope(role: Role, region_code: &str) -> Result<()> {
    let bad = |why: &str| Err(RecordsError::Invalid(format!("region code '{region_code}' {why}")));
    if region_code.len() != 6 || !region_code.bytes().all(|b| b.is_ascii_digit()) {
        return bad("is not six digits (GB/T 2260, e.g. 320000 for 江苏省, 320500 for 苏州市)");
    }
    match role {
        Role::Province if !region_code.ends_with("0000") => bad("is not a province's (a province's code ends in 0000)"),
        Role::City if !region_code.ends_with("00") || region_code.ends_with("0000") => bad("is not a city's (a city's code ends in 00, not 0000)"),
        _ => Ok(()),
    }
}

fn staff_of(r: &postgres::Row) -> Result<Staff> {
    Ok(Staff {
        username: r.get(0),
        display_name: r.get(1),
        role: Role::parse(r.get::<_, &str>(2))?,
        region_code: r.get(3),
        admin: r.get(4),
        disabled: r.get(5),
    })
}

const STAFF_COLUMNS: &str = "username, display_name, role, region_code::text, admin, disabled";

/// Creates a member of staff; refuses a username taken.
pub fn create(db: &mut Client, s: &Staff, password_hash: &str) -> Result<()> {
    check_scope(s.role, &s.region_code)?;
    if !s.username.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c)) || !(2..=40).contains(&s.username.len()) {
        return Err(RecordsError::Invalid(format!("username '{}' may hold only a-z, 0-9, '.', '_' and '-' (2 to 40 characters)", s.username)));
    }
    let n = db.execute(
        "INSERT INTO staff (username, display_name, password_hash, role, region_code, admin) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
        &[&s.username, &s.display_name, &password_hash, &s.role.as_str(), &s.region_code, &s.admin],
    )?;
    if n == 0 {
        return Err(RecordsError::Invalid(format!("username '{}' is taken: choose another, or reset that user's password", s.username)));
    }
    Ok(())
}

/// A member of staff with their password hash.
pub fn find(db: &mut Client, username: &str) -> Result<Option<(Staff, String)>> {
    let row = db.query_opt(&format!("SELECT {STAFF_COLUMNS}, password_hash FROM staff WHERE username = $1"), &[&username])?;
    row.map(|r| Ok((staff_of(&r)?, r.get(6)))).transpose()
}

pub fn list(db: &mut Client) -> Result<Vec<Staff>> {
    db.query(&format!("SELECT {STAFF_COLUMNS} FROM staff ORDER BY username"), &[])?.iter().map(staff_of).collect()
}

fn must_exist(n: u64, username: &str) -> Result<()> {
    if n == 0 {
        return Err(RecordsError::Invalid(format!("no user '{username}'")));
    }
    Ok(())
}

/// Disables or enables a user; disabling ends their sessions.
pub fn set_disabled(db: &mut Client, username: &str, disabled: bool) -> Result<()> {
    let mut tx = db.transaction()?;
    let n = tx.execute("UPDATE staff SET disabled = $2 WHERE username = $1", &[&username, &disabled])?;
    must_exist(n, username)?;
    if disabled {
        tx.execute("DELETE FROM staff_sessions WHERE username = $1", &[&username])?;
    }
    tx.commit()?;
    Ok(())
}

/// Sets a new password hash and ends the user's sessions.
pub fn set_password(db: &mut Client, username: &str, password_hash: &str) -> Result<()> {
    let mut tx = db.transaction()?;
    let n = tx.execute("UPDATE staff SET password_hash = $2 WHERE username = $1", &[&username, &password_hash])?;
    must_exist(n, username)?;
    tx.execute("DELETE FROM staff_sessions WHERE username = $1", &[&username])?;
    tx.commit()?;
    Ok(())
}

/// Starts a session: the SHA-256 of its token, its CSRF token, how long it lasts.
pub fn start_session(db: &mut Client, token_sha256: &str, username: &str, csrf: &str, hours: i32) -> Result<()> {
    db.execute(
        "INSERT INTO staff_sessions (token_sha256, username, csrf, expires_at) VALUES ($1, $2, $3, now() + make_interval(hours => $4))",
        &[&token_sha256, &username, &csrf, &hours],
    )?;
    Ok(())
}

/// The live session of a token hash: who (not disabled) and its CSRF token.
pub fn session(db: &mut Client, token_sha256: &str) -> Result<Option<(Staff, String)>> {
    let row = db.query_opt(
        &format!(
            "SELECT {}, ss.csrf FROM staff_sessions ss JOIN staff s ON s.username = ss.username
             WHERE ss.token_sha256 = $1 AND ss.expires_at > now() AND NOT s.disabled",
            STAFF_COLUMNS.split(", ").map(|c| format!("s.{c}")).collect::<Vec<_>>().join(", ")
        ),
        &[&token_sha256],
    )?;
    row.map(|r| Ok((staff_of(&r)?, r.get(6)))).transpose()
}

pub fn end_session(db: &mut Client, token_sha256: &str) -> Result<()> {
    db.execute("DELETE FROM staff_sessions WHERE token_sha256 = $1 OR expires_at < now()", &[&token_sha256])?;
    Ok(())
}

/// Appends to the audit log.
pub fn audit(db: &mut Client, username: &str, action: &str, target: &str) -> Result<()> {
    db.execute("INSERT INTO audit_log (username, action, target) VALUES ($1, $2, $3)", &[&username, &action, &target])?;
    Ok(())
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditLine {
    pub at: String,
    pub username: String,
    pub action: String,
    pub target: String,
}

/// The newest lines first.
pub fn audit_lines(db: &mut Client, limit: i64) -> Result<Vec<AuditLine>> {
    Ok(db
        .query(
            "SELECT to_char(at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI:SS'), username, action, target FROM audit_log ORDER BY id DESC LIMIT $1",
            &[&limit],
        )?
        .iter()
        .map(|r| AuditLine { at: r.get(0), username: r.get(1), action: r.get(2), target: r.get(3) })
        .collect())
}
