//! Outgoing mail over SMTP with `lettre`: the transport the outbox sends
//! through. What each message says is the sender's business (the
//! decommissioning procedure's letters are in `decommission/mail.rs`).
//!
//! Every message is `multipart/alternative`: the letter's plain text as
//! written, and an HTML part made from the same words here, so the two
//! never say different things and the outbox keeps storing one text. A line
//! that is only a link becomes a button (with the address beneath it, for
//! clients that show no buttons). The HTML loads nothing from anywhere: no
//! images, no stylesheets, no tracking.

use std::fmt;

use lettre::{
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{Mailbox, MultiPart},
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
            .multipart(MultiPart::alternative_plain_html(body.clone(), html_alternative(&body)))?;
        tokio::time::timeout(self.deadline, self.transport.send(message))
            .await
            .map_err(|_| MailError::TimedOut(self.deadline))??;
        Ok(())
    }
}

/// The HTML part for a letter's plain `text`: its paragraphs (split at
/// blank lines, lines kept), escaped, with each paragraph that is a lone
/// `http(s)` link made a button.
pub fn html_alternative(text: &str) -> String {
    let mut html = String::from(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"></head>\n\
         <body style=\"margin:0;padding:24px;background:#ffffff;color:#1f2328;font:16px/1.5 -apple-system,'Segoe UI',Roboto,Arial,sans-serif\">\n\
         <div style=\"max-width:560px;margin:0 auto\">\n",
    );
    for paragraph in text.split("\n\n").map(str::trim).filter(|p| !p.is_empty()) {
        if is_link(paragraph) {
            let href = html_escape::encode_double_quoted_attribute(paragraph);
            html.push_str(&format!(
                "<p style=\"margin:24px 0\"><a href=\"{href}\" style=\"display:inline-block;padding:12px 20px;\
                 background:#1f5fbf;color:#ffffff;text-decoration:none;border-radius:6px;font-weight:600\">Open the page</a></p>\n\
                 <p style=\"margin:0 0 16px;font-size:13px;color:#57606a;word-break:break-all\">Or copy this address into your browser: {href}</p>\n"
            ));
        } else {
            let lines: Vec<_> = paragraph.lines().map(html_escape::encode_text).collect();
            html.push_str(&format!("<p style=\"margin:0 0 16px\">{}</p>\n", lines.join("<br>\n")));
        }
    }
    html.push_str("</div>\n</body></html>\n");
    html
}

fn is_link(paragraph: &str) -> bool {
    (paragraph.starts_with("https://") || paragraph.starts_with("http://")) && !paragraph.contains(char::is_whitespace)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_html_part_says_the_same_words_and_makes_the_link_a_button() {
        let text = "Dear Ada <ops>,\n\nplease approve here:\n\nhttps://easel.example/decommission/abc?x=1&y=2\n\nThe link works once.\nOpening it changes nothing.\n";
        let html = html_alternative(text);
        assert!(html.contains("<p style=\"margin:0 0 16px\">Dear Ada &lt;ops&gt;,</p>"), "{html}");
        assert!(html.contains("The link works once.<br>\nOpening it changes nothing."), "{html}");
        let href = "href=\"https://easel.example/decommission/abc?x=1&amp;y=2\"";
        assert_eq!(html.matches(href).count(), 1, "one button: {html}");
        assert!(html.contains(">Open the page</a>"));
        // Nothing remote: no images, no stylesheets, no other address.
        for remote in ["<img", "<link", "src=", "url("] {
            assert!(!html.contains(remote), "{remote}: {html}");
        }
        assert_eq!(html.matches("https://").count(), 2, "the link, as a button and as text: {html}");
    }

    #[test]
    fn a_link_inside_a_sentence_stays_text() {
        let html = html_alternative("see https://a.example/x for more");
        assert!(!html.contains("<a "), "{html}");
        assert!(html.contains("see https://a.example/x for more"));
    }

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
