//! Stakeholders: who must approve, as typed on the request form.

use std::fmt;

use crate::auth::Email;

/// Stored as `as_str` spells it (the `sqlx::Type` derive's words; a test
/// holds them together); a word it does not know is a decode error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum StakeholderRole {
    /// Approves the plan, receives the archive and signs for it.
    Representative,
    Management,
    User,
}

impl StakeholderRole {
    pub fn as_str(self) -> &'static str {
        match self {
            StakeholderRole::Representative => "representative",
            StakeholderRole::Management => "management",
            StakeholderRole::User => "user",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "representative" => Some(StakeholderRole::Representative),
            "management" => Some(StakeholderRole::Management),
            "user" => Some(StakeholderRole::User),
            _ => None,
        }
    }
}

impl fmt::Display for StakeholderRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewStakeholder {
    pub name: String,
    pub email: Email,
    pub role: StakeholderRole,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StakeholderListError {
    #[error("Line {line}: write “name, e-mail, role” (role: representative, management or user).")]
    Shape { line: usize },
    #[error("Line {line}: the name must be plain text of at most {MAX_NAME_CHARS} characters.")]
    Name { line: usize },
    #[error("Line {line}: {reason}.")]
    Email { line: usize, reason: String },
    #[error("Line {line}: the role must be representative, management or user.")]
    Role { line: usize },
    #[error("{0} is listed twice.")]
    Duplicate(String),
    #[error("Name at least one stakeholder.")]
    Empty,
    #[error("Name exactly one representative: they approve the plan and sign for the archive.")]
    Representative,
}

/// A stakeholder's name goes into a mail header (`To:`): plain text only.
pub const MAX_NAME_CHARS: usize = 120;

/// One stakeholder per line: `name, e-mail, role`. Exactly one representative.
pub fn parse_list(text: &str) -> Result<Vec<NewStakeholder>, StakeholderListError> {
    let mut out: Vec<NewStakeholder> = Vec::new();
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let line_no = i + 1;
        let parts: Vec<&str> = line.split(',').map(str::trim).collect();
        let [name, email, role] = parts.as_slice() else {
            return Err(StakeholderListError::Shape { line: line_no });
        };
        if name.is_empty() {
            return Err(StakeholderListError::Shape { line: line_no });
        }
        // No control characters (a CR or LF could forge mail headers) and
        // nothing that reads as address syntax in a display name.
        if name.chars().count() > MAX_NAME_CHARS || name.chars().any(|c| c.is_control() || "<>\"\\;@".contains(c)) {
            return Err(StakeholderListError::Name { line: line_no });
        }
        let email =
            Email::parse(email).map_err(|e| StakeholderListError::Email { line: line_no, reason: e.to_string() })?;
        // What the mailer will accept, checked now rather than at sending.
        if email.as_str().parse::<lettre::Address>().is_err() {
            let reason = format!("“{email}” is not an address mail can be sent to");
            return Err(StakeholderListError::Email { line: line_no, reason });
        }
        let role = StakeholderRole::parse(role).ok_or(StakeholderListError::Role { line: line_no })?;
        if out.iter().any(|s| s.email == email) {
            return Err(StakeholderListError::Duplicate(email.to_string()));
        }
        out.push(NewStakeholder { name: (*name).to_owned(), email, role });
    }
    if out.is_empty() {
        return Err(StakeholderListError::Empty);
    }
    if out.iter().filter(|s| s.role == StakeholderRole::Representative).count() != 1 {
        return Err(StakeholderListError::Representative);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_spells_each_role_as_as_str() {
        for role in [StakeholderRole::Representative, StakeholderRole::Management, StakeholderRole::User] {
            assert_eq!(crate::test_support::stored_as(&role), role.as_str());
        }
    }

    #[test]
    fn a_list_with_one_representative_parses() {
        let list = parse_list("Ada Rep, ada@client.example, representative\n\n Bo Boss , bo@client.example, Management\nCy, cy@client.example, user\n").unwrap();
        assert_eq!(list.len(), 3);
        assert_eq!(list[1].name, "Bo Boss");
        assert_eq!(list[1].role, StakeholderRole::Management);
    }

    #[test]
    fn malformed_lists_are_refused_with_the_line() {
        let cases = [
            ("Ada, ada@x.example", StakeholderListError::Shape { line: 1 }),
            ("Ada, ada@x.example, boss", StakeholderListError::Role { line: 1 }),
            ("", StakeholderListError::Empty),
            ("Ada, ada@x.example, user", StakeholderListError::Representative),
            (
                "Ada, ada@x.example, representative\nBo, bo@x.example, representative",
                StakeholderListError::Representative,
            ),
            (
                "Ada, ada@x.example, representative\nAda, ADA@x.example, user",
                StakeholderListError::Duplicate("ada@x.example".into()),
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_list(text), Err(expected), "{text}");
        }
        assert!(matches!(parse_list("Ada, not-an-email, representative"), Err(StakeholderListError::Email { .. })));
        assert!(matches!(
            parse_list("Ada\rBcc: eve@evil.example, ada@x.example, representative"),
            Err(StakeholderListError::Email { .. } | StakeholderListError::Name { .. })
        ));
    }

    #[test]
    fn names_that_could_forge_mail_headers_are_refused() {
        for name in ["Ada\rBcc: eve@evil.example", "Ada\u{0}", "Eve <eve@evil.example>", "\"Ada\"", &"x".repeat(121)] {
            let text = format!("{name}, ada@x.example, representative");
            assert_eq!(parse_list(&text), Err(StakeholderListError::Name { line: 1 }), "{name:?}");
        }
        assert!(parse_list("Zoë O’Brien-Łukasz, ada@x.example, representative").is_ok());
    }
}
