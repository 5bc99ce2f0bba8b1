//! RESP2, the Redis wire protocol: commands written as arrays of bulk strings, replies read from
//! a buffer that may hold less than one reply.

use std::fmt;

/// The largest bulk string or array accepted from a server: far above anything the probe reads
/// (`INFO replication`, its own key), far below what would exhaust memory.
const MAX_LENGTH: i64 = 64 * 1024 * 1024;

/// How deeply arrays may nest in a reply.
const MAX_DEPTH: usize = 16;

/// One reply from the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// `+OK`
    Simple(String),
    /// `-ERR message`: the message without the `-`.
    Error(String),
    /// `:42`
    Integer(i64),
    /// `$5\r\nhello`, or `$-1` (nil) as `None`.
    Bulk(Option<Vec<u8>>),
    /// `*2\r\n...`, or `*-1` (nil) as `None`.
    Array(Option<Vec<Reply>>),
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reply::Simple(s) => write!(f, "+{s}"),
            Reply::Error(e) => write!(f, "-{e}"),
            Reply::Integer(n) => write!(f, ":{n}"),
            Reply::Bulk(None) | Reply::Array(None) => f.write_str("nil"),
            Reply::Bulk(Some(bytes)) => write!(f, "{:?}", String::from_utf8_lossy(bytes)),
            Reply::Array(Some(items)) => write!(f, "array of {}", items.len()),
        }
    }
}

/// Bytes that are not a RESP2 reply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a RESP reply: {0}")]
pub struct RespError(pub String);

/// A command as RESP2 sends it: an array of bulk strings.
pub fn encode(args: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + args.iter().map(|a| a.len() + 16).sum::<usize>());
    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for arg in args {
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// The first reply in `buf` and how many bytes it took, or `None` when `buf` holds only part of
/// one.
pub fn parse(buf: &[u8]) -> Result<Option<(Reply, usize)>, RespError> {
    parse_at(buf, 0, 0)
}

fn parse_at(buf: &[u8], at: usize, depth: usize) -> Result<Option<(Reply, usize)>, RespError> {
    let Some((line, next)) = line_at(buf, at)? else {
        return Ok(None);
    };
    let Some((&tag, rest)) = line.split_first() else {
        return Err(RespError("an empty line".to_owned()));
    };
    let text = || String::from_utf8_lossy(rest).into_owned();
    match tag {
        b'+' => Ok(Some((Reply::Simple(text()), next))),
        b'-' => Ok(Some((Reply::Error(text()), next))),
        b':' => Ok(Some((Reply::Integer(number(rest)?), next))),
        b'$' => {
            let len = length(rest)?;
            let Ok(len) = usize::try_from(len) else {
                return Ok(Some((Reply::Bulk(None), next)));
            };
            let end = next + len;
            if buf.len() < end + 2 {
                return Ok(None);
            }
            if &buf[end..end + 2] != b"\r\n" {
                return Err(RespError(format!(
                    "a bulk string of {len} bytes is not followed by CRLF"
                )));
            }
            Ok(Some((Reply::Bulk(Some(buf[next..end].to_vec())), end + 2)))
        }
        b'*' => {
            let len = length(rest)?;
            let Ok(len) = usize::try_from(len) else {
                return Ok(Some((Reply::Array(None), next)));
            };
            if depth >= MAX_DEPTH {
                return Err(RespError(format!("arrays nested deeper than {MAX_DEPTH}")));
            }
            let mut items = Vec::with_capacity(len.min(1024));
            let mut at = next;
            for _ in 0..len {
                let Some((item, after)) = parse_at(buf, at, depth + 1)? else {
                    return Ok(None);
                };
                items.push(item);
                at = after;
            }
            Ok(Some((Reply::Array(Some(items)), at)))
        }
        other => Err(RespError(format!(
            "unknown type byte {:?}",
            char::from(other)
        ))),
    }
}

/// The line starting at `at` (without CRLF) and where the next one starts.
fn line_at(buf: &[u8], at: usize) -> Result<Option<(&[u8], usize)>, RespError> {
    let rest = buf.get(at..).unwrap_or_default();
    match rest.windows(2).position(|w| w == b"\r\n") {
        Some(end) => Ok(Some((&rest[..end], at + end + 2))),
        // A line longer than any length prefix or status could be is not RESP.
        None if rest.len() > 64 * 1024 => Err(RespError("a line without CRLF".to_owned())),
        None => Ok(None),
    }
}

fn number(digits: &[u8]) -> Result<i64, RespError> {
    std::str::from_utf8(digits)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| {
            RespError(format!(
                "{:?} is not a number",
                String::from_utf8_lossy(digits)
            ))
        })
}

/// A length prefix: -1 (nil) or 0 up to [`MAX_LENGTH`].
fn length(digits: &[u8]) -> Result<i64, RespError> {
    let n = number(digits)?;
    if !(-1..=MAX_LENGTH).contains(&n) {
        return Err(RespError(format!("a length of {n}")));
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn whole(bytes: &[u8]) -> Reply {
        let (reply, used) = parse(bytes).unwrap().expect("a whole reply");
        assert_eq!(used, bytes.len());
        reply
    }

    #[test]
    fn commands_are_arrays_of_bulk_strings() {
        assert_eq!(
            encode(&[b"SET", b"k", b"v 1"]),
            b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\nv 1\r\n".to_vec()
        );
    }

    #[test]
    fn every_reply_type_is_read() {
        assert_eq!(whole(b"+OK\r\n"), Reply::Simple("OK".into()));
        assert_eq!(
            whole(b"-READONLY You can't write\r\n"),
            Reply::Error("READONLY You can't write".into())
        );
        assert_eq!(whole(b":-42\r\n"), Reply::Integer(-42));
        assert_eq!(
            whole(b"$5\r\nhe\r\no\r\n"),
            Reply::Bulk(Some(b"he\r\no".to_vec()))
        );
        assert_eq!(whole(b"$0\r\n\r\n"), Reply::Bulk(Some(Vec::new())));
        assert_eq!(whole(b"$-1\r\n"), Reply::Bulk(None));
        assert_eq!(whole(b"*-1\r\n"), Reply::Array(None));
        assert_eq!(
            whole(b"*2\r\n:1\r\n*1\r\n$1\r\nx\r\n"),
            Reply::Array(Some(vec![
                Reply::Integer(1),
                Reply::Array(Some(vec![Reply::Bulk(Some(b"x".to_vec()))]))
            ]))
        );
    }

    #[test]
    fn a_partial_reply_asks_for_more_at_every_cut() {
        let full = b"*2\r\n$5\r\nhello\r\n:7\r\n";
        for cut in 0..full.len() {
            assert_eq!(parse(&full[..cut]).unwrap(), None, "cut at {cut}");
        }
        assert!(parse(full).unwrap().is_some());
    }

    #[test]
    fn two_replies_in_one_buffer_are_read_one_at_a_time() {
        let buf = b"+OK\r\n$1\r\nv\r\n";
        let (first, used) = parse(buf).unwrap().unwrap();
        assert_eq!(first, Reply::Simple("OK".into()));
        assert_eq!(whole(&buf[used..]), Reply::Bulk(Some(b"v".to_vec())));
    }

    #[test]
    fn malformed_replies_are_errors_not_hangs() {
        assert!(parse(b"!oops\r\n").is_err());
        assert!(parse(b":twelve\r\n").is_err());
        assert!(parse(b"$3\r\nabcde\r\n").is_err());
        assert!(parse(b"$999999999999\r\n").is_err());
        assert!(parse(b"\r\n").is_err());
        let deep = "*1\r\n".repeat(MAX_DEPTH + 1) + ":1\r\n";
        assert!(parse(deep.as_bytes()).is_err());
    }
}
