//! Text clean-up shared by every source of metadata.

/// Collapses every run of whitespace (newlines from arXiv's line-wrapped
/// abstracts included) into one space and trims the ends. TeX is untouched.
pub fn collapse_whitespace(s: &str) -> String {
    if is_collapsed_ascii(s) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    for word in s.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// The common case, checked fast: ASCII with single inner spaces and no
/// whitespace at the ends.
fn is_collapsed_ascii(s: &str) -> bool {
    let b = s.as_bytes();
    if b.first() == Some(&b' ') || b.last() == Some(&b' ') {
        return false;
    }
    let mut prev_space = false;
    for &c in b {
        if c >= 0x80 || (c.is_ascii_whitespace() && c != b' ') || c == 0x0b {
            return false;
        }
        let space = c == b' ';
        if space && prev_space {
            return false;
        }
        prev_space = space;
    }
    true
}

/// Turns the TeX accent commands common in arXiv author names into Unicode
/// (`M\"uller` → `Müller`, `{\'E}mile` → `Émile`, `\c{c}` → `ç`). Anything it
/// does not know is left as written.
pub fn tex_accents_to_unicode(s: &str) -> String {
    if !s.contains('\\') {
        return s.to_string();
    }
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '\\' && i + 1 < chars.len() {
            if let Some((text, used)) = decode_command(&chars[i + 1..]) {
                // Drop a brace group wrapping just this accent: `{\"u}`.
                if out.ends_with('{') && chars.get(i + 1 + used) == Some(&'}') {
                    out.pop();
                    out.push_str(&text);
                    i += 2 + used;
                } else {
                    out.push_str(&text);
                    i += 1 + used;
                }
                continue;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// Decodes the command after a backslash; returns the text and how many
/// chars (after the backslash) it used.
fn decode_command(rest: &[char]) -> Option<(String, usize)> {
    let accent = *rest.first()?;
    // Letter-like commands: \ss, \o, \O, \l, \L, \ae, \aa, \i.
    let word: String = rest
        .iter()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect();
    let named = match word.as_str() {
        "ss" => Some("ß"),
        "o" => Some("ø"),
        "O" => Some("Ø"),
        "l" => Some("ł"),
        "L" => Some("Ł"),
        "ae" => Some("æ"),
        "AE" => Some("Æ"),
        "aa" => Some("å"),
        "AA" => Some("Å"),
        "i" => Some("ı"),
        _ => None,
    };
    if let Some(n) = named {
        let mut used = word.chars().count();
        // `\o{}` or `\ss{}` style terminators.
        if rest.get(used) == Some(&'{') && rest.get(used + 1) == Some(&'}') {
            used += 2;
        }
        return Some((n.to_string(), used));
    }
    let combining = match accent {
        '"' => '\u{308}',
        '\'' => '\u{301}',
        '`' => '\u{300}',
        '^' => '\u{302}',
        '~' => '\u{303}',
        '=' => '\u{304}',
        '.' => '\u{307}',
        'c' => '\u{327}',
        'v' => '\u{30c}',
        'u' => '\u{306}',
        'H' => '\u{30b}',
        'k' => '\u{328}',
        _ => return None,
    };
    // The accented letter: `\"u`, `\"{u}`, `\c{c}`, `\v z` (letter commands
    // need a brace or a space; symbol accents take the next char directly).
    let mut j = 1;
    let letter_cmd = accent.is_ascii_alphabetic();
    if letter_cmd && rest.get(j) == Some(&' ') {
        j += 1;
    }
    let (base, used) = if rest.get(j) == Some(&'{') {
        let inner = *rest.get(j + 1)?;
        let inner = if inner == '\\' && rest.get(j + 2) == Some(&'i') {
            'i'
        } else {
            inner
        };
        let close = rest[j..].iter().position(|&c| c == '}')? + j;
        if close > j + 3 {
            return None;
        }
        (inner, close + 1)
    } else {
        if letter_cmd && j == 1 {
            return None;
        }
        (*rest.get(j)?, j + 1)
    };
    if !base.is_alphabetic() {
        return None;
    }
    Some((compose(base, combining), used))
}

/// Precomposes the common Latin letters; falls back to a combining mark.
fn compose(base: char, mark: char) -> String {
    const TABLE: &[(char, char, char)] = &[
        ('a', '\u{308}', 'ä'),
        ('o', '\u{308}', 'ö'),
        ('u', '\u{308}', 'ü'),
        ('e', '\u{308}', 'ë'),
        ('i', '\u{308}', 'ï'),
        ('A', '\u{308}', 'Ä'),
        ('O', '\u{308}', 'Ö'),
        ('U', '\u{308}', 'Ü'),
        ('a', '\u{301}', 'á'),
        ('e', '\u{301}', 'é'),
        ('i', '\u{301}', 'í'),
        ('o', '\u{301}', 'ó'),
        ('u', '\u{301}', 'ú'),
        ('y', '\u{301}', 'ý'),
        ('c', '\u{301}', 'ć'),
        ('n', '\u{301}', 'ń'),
        ('s', '\u{301}', 'ś'),
        ('z', '\u{301}', 'ź'),
        ('E', '\u{301}', 'É'),
        ('A', '\u{301}', 'Á'),
        ('O', '\u{301}', 'Ó'),
        ('I', '\u{301}', 'Í'),
        ('U', '\u{301}', 'Ú'),
        ('S', '\u{301}', 'Ś'),
        ('a', '\u{300}', 'à'),
        ('e', '\u{300}', 'è'),
        ('i', '\u{300}', 'ì'),
        ('o', '\u{300}', 'ò'),
        ('u', '\u{300}', 'ù'),
        ('a', '\u{302}', 'â'),
        ('e', '\u{302}', 'ê'),
        ('i', '\u{302}', 'î'),
        ('o', '\u{302}', 'ô'),
        ('u', '\u{302}', 'û'),
        ('n', '\u{303}', 'ñ'),
        ('a', '\u{303}', 'ã'),
        ('o', '\u{303}', 'õ'),
        ('N', '\u{303}', 'Ñ'),
        ('c', '\u{327}', 'ç'),
        ('C', '\u{327}', 'Ç'),
        ('s', '\u{327}', 'ş'),
        ('c', '\u{30c}', 'č'),
        ('s', '\u{30c}', 'š'),
        ('z', '\u{30c}', 'ž'),
        ('r', '\u{30c}', 'ř'),
        ('e', '\u{30c}', 'ě'),
        ('C', '\u{30c}', 'Č'),
        ('S', '\u{30c}', 'Š'),
        ('Z', '\u{30c}', 'Ž'),
        ('g', '\u{306}', 'ğ'),
        ('o', '\u{30b}', 'ő'),
        ('u', '\u{30b}', 'ű'),
        ('a', '\u{328}', 'ą'),
        ('e', '\u{328}', 'ę'),
        ('z', '\u{307}', 'ż'),
        ('a', '\u{304}', 'ā'),
    ];
    TABLE
        .iter()
        .find(|(b, m, _)| *b == base && *m == mark)
        .map(|(_, _, c)| c.to_string())
        .unwrap_or_else(|| format!("{base}{mark}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collapses_whitespace_and_keeps_tex() {
        assert_eq!(
            collapse_whitespace("  A  $\\alpha$\n  model\t\r\n"),
            "A $\\alpha$ model"
        );
        assert_eq!(collapse_whitespace(""), "");
        assert_eq!(collapse_whitespace("already tidy"), "already tidy");
        assert_eq!(collapse_whitespace("two  spaces"), "two spaces");
        assert_eq!(collapse_whitespace(" lead"), "lead");
        assert_eq!(collapse_whitespace("nbsp\u{a0}\u{2003}x"), "nbsp x");
        assert_eq!(collapse_whitespace("tab\tx"), "tab x");
    }

    #[test]
    fn decodes_common_accents() {
        let cases = [
            ("M\\\"uller", "Müller"),
            ("M{\\\"u}ller", "Müller"),
            ("{\\'E}mile Borel", "Émile Borel"),
            ("Fran\\c{c}ois", "François"),
            ("Erd\\H{o}s", "Erdős"),
            ("Gau\\ss", "Gauß"),
            ("\\v{S}ekoranja", "Šekoranja"),
            ("No accents here", "No accents here"),
            ("Keeps \\alpha unknown", "Keeps \\alpha unknown"),
        ];
        for (input, want) in cases {
            assert_eq!(tex_accents_to_unicode(input), want, "{input}");
        }
    }
}

/// An author's name as author pages match it: accents dropped (`Schölkopf`
/// and `Scholkopf` meet), case folded, punctuation and runs of spaces
/// made one space (`J.-P. Serre` is `j p serre`).
pub fn author_key(name: &str) -> String {
    use unicode_normalization::char::is_combining_mark;
    use unicode_normalization::UnicodeNormalization;
    let folded: String = name
        .nfkd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod author_key_tests {
    use super::author_key;

    #[test]
    fn names_meet_across_accents_case_and_punctuation() {
        assert_eq!(author_key("Bernhard Schölkopf"), "bernhard scholkopf");
        assert_eq!(author_key("bernhard  SCHOLKOPF"), "bernhard scholkopf");
        assert_eq!(author_key("J.-P. Serre"), "j p serre");
        assert_eq!(author_key("  "), "");
        assert_eq!(author_key("李飞飞"), "李飞飞");
    }
}
