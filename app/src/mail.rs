//! Outgoing mail over SMTP with `lettre`: the transport the outbox sends
//! through. What each message says is the sender's business (the
//! decommissioning procedure's letters are in `decommission/mail.rs`).

use std::fmt;

use lettre::{
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{Mailbox, header::ContentType},
};

/// An SMTP URL (`smtp://`, `smtps://`, `smtp://…?tls=required`). It may
/// carry a password, so `Debug` hides the credentials.
#[derive(Clone)]
pub struct SmtpUrl(String);

impl SmtpUrl {
    pub fn new(url: impl Into<String>) -> Self {
        Self(url.into())
    }
}

impl fmt::Debug for SmtpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.0.find("://"), self.0.rfind('@')) {
            (Some(s), Some(at)) if at > s => write!(f, "{}://***@{}", &self.0[..s], &self.0[at + 1..]),
            _ => f.write_str(&self.0),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("the SMTP URL is not usable: {0}")]
    Url(String),
    #[error("the message could not be built: {0}")]
    Build(#[from] lettre::error::Error),
    #[error("{0:?} is not a mail address")]
    Address(String),
    #[error("the SMTP server did not take the message: {0}")]
    Send(#[from] lettre::transport::smtp::Error),
    #[error("the SMTP server did not answer within {} ms", .0.as_millis())]
    TimedOut(std::time::Duration),
}

/// One SMTP connection setup, shared by every handler.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// For one whole message: lettre's own timeout bounds only connecting
    /// (its async transport reads the server's answers without one, so a
    /// stopped server held the sender for good).
    deadline: std::time::Duration,
}

impl fmt::Debug for Mailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mailer").field("from", &self.from.to_string()).finish_non_exhaustive()
    }
}

impl Mailer {
    /// `deadline` bounds connecting and then sending a whole message.
    pub fn new(url: &SmtpUrl, from: &str, deadline: std::time::Duration) -> Result<Self, MailError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&url.0)
            .map_err(|e| MailError::Url(e.to_string()))?
            .timeout(Some(deadline))
            .build();
        let from = from.parse().map_err(|_| MailError::Address(from.to_owned()))?;
        Ok(Self { transport, from, deadline })
    }

    /// Sends one message with the Message-ID the outbox chose for it.
    pub async fn send(
        &self,
        to_name: &str,
        to_email: &str,
        subject: &str,
        body: String,
        message_id: &str,
    ) -> Result<(), MailError> {
        let to = Mailbox::new(
            Some(to_name.to_owned()),
            to_email.parse().map_err(|_| MailError::Address(to_email.to_owned()))?,
        );
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .message_id(Some(message_id.to_owned()))
            .header(ContentType::TEXT_PLAIN)
            .body(body)?;
        tokio::time::timeout(self.deadline, self.transport.send(message))
            .await
            .map_err(|_| MailError::TimedOut(self.deadline))??;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_smtp_url_hides_its_password() {
        let shown = format!("{:?}", SmtpUrl::new("smtps://user:secret@mail.example:465"));
        assert_eq!(shown, "smtps://***@mail.example:465");
    }

    const TEN_SECONDS: std::time::Duration = std::time::Duration::from_secs(10);

    #[test]
    fn a_plain_smtp_url_makes_a_mailer() {
        assert!(Mailer::new(&SmtpUrl::new("smtp://127.0.0.1:2525"), "Easel <easel@example.org>", TEN_SECONDS).is_ok());
        assert!(Mailer::new(&SmtpUrl::new("ftp://x"), "Easel <easel@example.org>", TEN_SECONDS).is_err());
    }
}
