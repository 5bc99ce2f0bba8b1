//! An SNS message as an HTTP(S) subscription receives it, and the string AWS signs for it.
//!
//! AWS's "Verifying the signatures of Amazon SNS messages"
//! (<https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html>): the string
//! to sign is the name-value pairs below, each as `Name\nvalue\n`, in byte order of the names,
//! with the values as the JSON says them once unescaped:
//!
//! - `Notification`: `Message`, `MessageId`, `Subject` (if the message has one), `Timestamp`,
//!   `TopicArn`, `Type`;
//! - `SubscriptionConfirmation` and `UnsubscribeConfirmation`: `Message`, `MessageId`,
//!   `SubscribeURL`, `Timestamp`, `Token`, `TopicArn`, `Type`.
//!
//! `SignatureVersion` 1 signs that string with SHA1withRSA, 2 with SHA256withRSA; `Signature` is
//! the base64 of the signature.
//!
//! A message carries only the names AWS's "HTTP/HTTPS notification JSON format" and
//! "HTTP/HTTPS subscription confirmation JSON format" pages list
//! (<https://docs.aws.amazon.com/sns/latest/dg/http-notification-json.html>), plus
//! `MessageAttributes`: a body with any other name was not written by SNS and is refused, so
//! that nothing unsigned rides along with a signed message.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// The names SNS writes in the messages it posts to an HTTP(S) endpoint.
pub const SNS_FIELDS: &[&str] = &[
    "Type",
    "MessageId",
    "Token",
    "TopicArn",
    "Subject",
    "Message",
    "SubscribeURL",
    "Timestamp",
    "SignatureVersion",
    "Signature",
    "SigningCertURL",
    "UnsubscribeURL",
    "MessageAttributes",
];

/// Names that may differ between two deliveries of one message: how it was signed.
const SIGNING_FIELDS: &[&str] = &["Signature", "SignatureVersion", "SigningCertURL"];

/// What an SNS message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageType {
    /// A message published to the topic.
    Notification,
    /// The endpoint was subscribed: visit `SubscribeURL` to confirm.
    SubscriptionConfirmation,
    /// The endpoint was unsubscribed.
    UnsubscribeConfirmation,
}

impl MessageType {
    /// The type's name, as in `Type`.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageType::Notification => "Notification",
            MessageType::SubscriptionConfirmation => "SubscriptionConfirmation",
            MessageType::UnsubscribeConfirmation => "UnsubscribeConfirmation",
        }
    }

    fn parse(raw: &str) -> Option<Self> {
        [
            MessageType::Notification,
            MessageType::SubscriptionConfirmation,
            MessageType::UnsubscribeConfirmation,
        ]
        .into_iter()
        .find(|t| t.as_str() == raw)
    }
}

/// The hash a signature was made with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureVersion {
    /// `1`: SHA1withRSA.
    V1,
    /// `2`: SHA256withRSA.
    V2,
}

/// An SNS message whose fields have the documented types; not yet known to come from SNS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnsMessage {
    /// `Type`.
    pub kind: MessageType,
    /// `MessageId`: the same for every retry of one message.
    pub message_id: String,
    /// `TopicArn`.
    pub topic_arn: String,
    /// `Subject`, when the message has one.
    pub subject: Option<String>,
    /// `Message`.
    pub message: String,
    /// `Timestamp`.
    pub timestamp: String,
    /// `SignatureVersion`.
    pub signature_version: SignatureVersion,
    /// `Signature` (base64).
    pub signature: String,
    /// `SigningCertURL`.
    pub signing_cert_url: String,
    /// `SubscribeURL` (confirmations only).
    pub subscribe_url: Option<String>,
    /// `Token` (confirmations only).
    pub token: Option<String>,
    /// SHA-256 of every field but how it was signed (`Signature`, `SignatureVersion`,
    /// `SigningCertURL`), names in byte order: two deliveries of one message have the same.
    pub fingerprint: [u8; 32],
}

/// Why a body is not an SNS message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    /// Not a JSON object.
    #[error("the body is not a JSON object")]
    NotAnObject,
    /// A field the message type requires is absent.
    #[error("`{0}` is missing")]
    Missing(&'static str),
    /// A field is not a string.
    #[error("`{0}` is not a string")]
    NotText(&'static str),
    /// A `Type` SNS does not send.
    #[error("`Type` {0:?} is not an SNS message type")]
    UnknownType(String),
    /// A `SignatureVersion` other than 1 and 2.
    #[error("`SignatureVersion` {0:?} is not 1 or 2")]
    UnknownSignatureVersion(String),
    /// A name SNS does not write.
    #[error("`{0}` is not a field of SNS's messages")]
    UnexpectedField(String),
}

impl SnsMessage {
    /// Reads the body SNS posted.
    pub fn parse(body: &[u8]) -> Result<Self, MessageError> {
        let value: Value = serde_json::from_slice(body).map_err(|_| MessageError::NotAnObject)?;
        let object = value.as_object().ok_or(MessageError::NotAnObject)?;
        if let Some(name) = object.keys().find(|k| !SNS_FIELDS.contains(&k.as_str())) {
            return Err(MessageError::UnexpectedField(excerpt(name)));
        }
        let kind = required(object, "Type")?;
        let kind = MessageType::parse(&kind).ok_or(MessageError::UnknownType(kind))?;
        let version = required(object, "SignatureVersion")?;
        let signature_version = match version.as_str() {
            "1" => SignatureVersion::V1,
            "2" => SignatureVersion::V2,
            _ => return Err(MessageError::UnknownSignatureVersion(version)),
        };
        let confirmation = kind != MessageType::Notification;
        let needed_by_confirmations = |name: &'static str| {
            if confirmation {
                required(object, name).map(Some)
            } else {
                optional(object, name)
            }
        };
        Ok(Self {
            kind,
            message_id: required(object, "MessageId")?,
            topic_arn: required(object, "TopicArn")?,
            subject: optional(object, "Subject")?,
            message: required(object, "Message")?,
            timestamp: required(object, "Timestamp")?,
            signature_version,
            signature: required(object, "Signature")?,
            signing_cert_url: required(object, "SigningCertURL")?,
            subscribe_url: needed_by_confirmations("SubscribeURL")?,
            token: needed_by_confirmations("Token")?,
            fingerprint: fingerprint(object),
        })
    }

    /// The notification as SNS signed it, and nothing else: `Type`, `MessageId`, `TopicArn`,
    /// `Subject`, `Message` and `Timestamp`, as a JSON document for the input reader.
    pub fn signed_document(&self) -> String {
        let mut document = Map::new();
        let mut put = |name: &str, value: &str| {
            document.insert(name.to_owned(), Value::String(value.to_owned()));
        };
        put("Type", self.kind.as_str());
        put("MessageId", &self.message_id);
        put("TopicArn", &self.topic_arn);
        if let Some(subject) = &self.subject {
            put("Subject", subject);
        }
        put("Message", &self.message);
        put("Timestamp", &self.timestamp);
        Value::Object(document).to_string()
    }

    /// The string AWS signed for this message (see the module's documentation).
    pub fn string_to_sign(&self) -> String {
        let mut pairs: Vec<(&str, &str)> = vec![
            ("Message", &self.message),
            ("MessageId", &self.message_id),
            ("Timestamp", &self.timestamp),
            ("TopicArn", &self.topic_arn),
            ("Type", self.kind.as_str()),
        ];
        match self.kind {
            MessageType::Notification => {
                if let Some(subject) = &self.subject {
                    pairs.push(("Subject", subject));
                }
            }
            MessageType::SubscriptionConfirmation | MessageType::UnsubscribeConfirmation => {
                pairs.push(("SubscribeURL", self.subscribe_url.as_deref().unwrap_or("")));
                pairs.push(("Token", self.token.as_deref().unwrap_or("")));
            }
        }
        pairs.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
        let mut out = String::new();
        for (name, value) in pairs {
            out.push_str(name);
            out.push('\n');
            out.push_str(value);
            out.push('\n');
        }
        out
    }

    /// The topic's Region (`eu-west-1`), from its ARN.
    pub fn region(&self) -> Option<&str> {
        self.topic_arn.split(':').nth(3).filter(|r| !r.is_empty())
    }
}

/// At most 64 characters of a name, for an error message.
fn excerpt(name: &str) -> String {
    name.chars().take(64).collect()
}

/// See [`SnsMessage::fingerprint`].
fn fingerprint(object: &Map<String, Value>) -> [u8; 32] {
    let mut fields: Vec<(&String, &Value)> = object
        .iter()
        .filter(|(name, _)| !SIGNING_FIELDS.contains(&name.as_str()))
        .collect();
    fields.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut hash = Sha256::new();
    for (name, value) in fields {
        hash.update(name.as_bytes());
        hash.update([0]);
        hash.update(value.to_string().as_bytes());
        hash.update([0]);
    }
    hash.finalize().into()
}

fn required(object: &Map<String, Value>, name: &'static str) -> Result<String, MessageError> {
    optional(object, name)?.ok_or(MessageError::Missing(name))
}

/// A string field, or `None` when it is absent or null (how messages without a subject say so).
fn optional(
    object: &Map<String, Value>,
    name: &'static str,
) -> Result<Option<String>, MessageError> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(_) => Err(MessageError::NotText(name)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notification_signs_its_fields_in_byte_order_with_its_subject() {
        let body = br#"{"Type":"Notification","MessageId":"4d4dc071-ddbf-465d-bba8-08f81c89da64","TopicArn":"arn:aws:sns:us-east-2:123456789012:s4-MySNSTopic-1G1WEFCOXTC0P","Subject":"My subject","Message":"My Test Message","Timestamp":"2019-01-31T04:37:04.321Z","SignatureVersion":"1","Signature":"c2ln","SigningCertURL":"https://sns.us-east-2.amazonaws.com/SimpleNotificationService-x.pem"}"#;
        let message = SnsMessage::parse(body).unwrap();
        // The example of AWS's documentation.
        assert_eq!(
            message.string_to_sign(),
            "Message\nMy Test Message\nMessageId\n4d4dc071-ddbf-465d-bba8-08f81c89da64\nSubject\nMy subject\nTimestamp\n2019-01-31T04:37:04.321Z\nTopicArn\narn:aws:sns:us-east-2:123456789012:s4-MySNSTopic-1G1WEFCOXTC0P\nType\nNotification\n"
        );
        assert_eq!(message.region(), Some("us-east-2"));
    }

    #[test]
    fn a_notification_without_subject_leaves_it_out_and_unescapes_its_message() {
        let body = br#"{"Type":"Notification","MessageId":"m1","TopicArn":"arn:aws:sns:eu-west-1:1:t","Subject":null,"Message":"{\"ElastiCache:FailoverComplete\":\"a\"}\nline two","Timestamp":"t","SignatureVersion":"2","Signature":"c2ln","SigningCertURL":"u"}"#;
        let message = SnsMessage::parse(body).unwrap();
        assert_eq!(message.signature_version, SignatureVersion::V2);
        assert_eq!(
            message.string_to_sign(),
            "Message\n{\"ElastiCache:FailoverComplete\":\"a\"}\nline two\nMessageId\nm1\nTimestamp\nt\nTopicArn\narn:aws:sns:eu-west-1:1:t\nType\nNotification\n"
        );
    }

    #[test]
    fn a_confirmation_signs_its_url_and_token() {
        let body = br#"{"Type":"SubscriptionConfirmation","MessageId":"3d891288-136d-417f-bc05-901c108273ee","Token":"233","TopicArn":"arn:aws:sns:us-east-2:123456789012:s4-MySNSTopic-1G1WEFCOXTC0P","Message":"My Test Message","SubscribeURL":"https://sns.us-east-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:us-east-2:123456789012:s4-MySNSTopic-1G1WEFCOXTC0P&Token=233","Timestamp":"2019-01-31T19:25:13.719Z","SignatureVersion":"1","Signature":"c2ln","SigningCertURL":"u"}"#;
        let message = SnsMessage::parse(body).unwrap();
        assert_eq!(
            message.string_to_sign(),
            "Message\nMy Test Message\nMessageId\n3d891288-136d-417f-bc05-901c108273ee\nSubscribeURL\nhttps://sns.us-east-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:us-east-2:123456789012:s4-MySNSTopic-1G1WEFCOXTC0P&Token=233\nTimestamp\n2019-01-31T19:25:13.719Z\nToken\n233\nTopicArn\narn:aws:sns:us-east-2:123456789012:s4-MySNSTopic-1G1WEFCOXTC0P\nType\nSubscriptionConfirmation\n"
        );
    }

    #[test]
    fn bodies_that_are_not_sns_messages_are_refused() {
        let cases: [(&[u8], MessageError); 6] = [
            (b"[1,2]", MessageError::NotAnObject),
            (b"not json", MessageError::NotAnObject),
            (
                br#"{"Type":"Notice","SignatureVersion":"1"}"#,
                MessageError::UnknownType("Notice".into()),
            ),
            (
                br#"{"Type":"Notification","SignatureVersion":"3"}"#,
                MessageError::UnknownSignatureVersion("3".into()),
            ),
            (
                br#"{"Type":"Notification","SignatureVersion":"1","MessageId":5}"#,
                MessageError::NotText("MessageId"),
            ),
            (
                br#"{"Type":"SubscriptionConfirmation","SignatureVersion":"1","MessageId":"m","TopicArn":"t","Message":"m","Timestamp":"t","Signature":"s","SigningCertURL":"u"}"#,
                MessageError::Missing("SubscribeURL"),
            ),
        ];
        for (body, want) in cases {
            assert_eq!(
                SnsMessage::parse(body).unwrap_err(),
                want,
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }
}
