//! A small element collector over quick-xml: the OAI-PMH and Atom parsers
//! only need element paths, attributes and text.

use quick_xml::events::Event;
use quick_xml::Reader;

/// Why an XML document could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed XML at byte {position}: {reason}")]
pub struct XmlError {
    pub position: u64,
    pub reason: String,
}

/// What the walker reports.
pub enum Node<'a> {
    /// An element opened: local name and attributes (local name, value).
    Open(&'a str, Vec<(String, String)>),
    /// Text (unescaped, CDATA included) inside the current element.
    Text(&'a str),
    /// The current element closed.
    Close(&'a str),
}

fn local(name: &[u8]) -> &[u8] {
    match name.iter().rposition(|&b| b == b':') {
        Some(i) => &name[i + 1..],
        None => name,
    }
}

fn utf8(b: &[u8], pos: u64) -> Result<&str, XmlError> {
    std::str::from_utf8(b).map_err(|e| XmlError {
        position: pos,
        reason: format!("not UTF-8: {e}"),
    })
}

/// Walks a whole document, calling `visit` for every element and text, and
/// checks the document is complete (every element closed, a root seen).
pub fn walk(xml: &str, mut visit: impl FnMut(Node<'_>)) -> Result<(), XmlError> {
    let mut reader = Reader::from_str(xml);
    reader.config_mut().trim_text(false);
    let mut depth: usize = 0;
    let mut saw_root = false;
    loop {
        let pos = reader.buffer_position();
        let err = |reason: String| XmlError {
            position: pos,
            reason,
        };
        match reader.read_event() {
            Err(e) => return Err(err(e.to_string())),
            Ok(Event::Eof) => {
                if depth != 0 || !saw_root {
                    return Err(err(
                        "document ends before its elements close (truncated?)".into()
                    ));
                }
                return Ok(());
            }
            Ok(Event::Start(e)) => {
                depth += 1;
                saw_root = true;
                let name = local(e.name().as_ref()).to_vec();
                let attrs = attributes(&e, pos)?;
                visit(Node::Open(utf8(&name, pos)?, attrs));
            }
            Ok(Event::Empty(e)) => {
                saw_root = true;
                let name = local(e.name().as_ref()).to_vec();
                let attrs = attributes(&e, pos)?;
                let name = utf8(&name, pos)?;
                visit(Node::Open(name, attrs));
                visit(Node::Close(name));
            }
            Ok(Event::End(e)) => {
                depth = depth
                    .checked_sub(1)
                    .ok_or_else(|| err("unbalanced closing tag".into()))?;
                let name = local(e.name().as_ref()).to_vec();
                visit(Node::Close(utf8(&name, pos)?));
            }
            Ok(Event::Text(t)) => {
                if depth > 0 {
                    let text = t.unescape().map_err(|e| err(e.to_string()))?;
                    visit(Node::Text(&text));
                }
            }
            Ok(Event::CData(c)) => {
                if depth > 0 {
                    let inner = c.into_inner();
                    visit(Node::Text(utf8(&inner, pos)?));
                }
            }
            Ok(_) => {}
        }
    }
}

fn attributes(
    e: &quick_xml::events::BytesStart<'_>,
    pos: u64,
) -> Result<Vec<(String, String)>, XmlError> {
    let mut out = Vec::new();
    for a in e.attributes() {
        let a = a.map_err(|err| XmlError {
            position: pos,
            reason: err.to_string(),
        })?;
        let key = utf8(local(a.key.as_ref()), pos)?.to_string();
        let value = a
            .unescape_value()
            .map_err(|err| XmlError {
                position: pos,
                reason: err.to_string(),
            })?
            .into_owned();
        out.push((key, value));
    }
    Ok(out)
}

pub fn attr<'a>(attrs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}
