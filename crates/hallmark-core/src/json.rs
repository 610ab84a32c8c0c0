//! Reading JSON files people edit: syntax errors located, duplicate keys refused.
//!
//! serde_json keeps the last of two equal keys without a word, so an observation file with
//! `"layout.transfers": 1` and later `"layout.transfers": 5` would silently score 5. Here a
//! duplicate key anywhere in the document is an error naming the key, where it sits and the line.

use std::collections::HashSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

/// Parses `text` as JSON, refusing duplicate keys. The error is a sentence for "FILE: …".
pub fn parse_strict(text: &str) -> Result<Value, String> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| format!("not valid JSON at line {} column {}: {} (see docs/observations.md)", e.line(), e.column(), e))?;
    let mut de = serde_json::Deserializer::from_str(text);
    if let Err(e) = (UniqueKeys { path: String::new() }).deserialize(&mut de) {
        let message = e.to_string();
        let what = message.rsplit_once(" at line ").map_or(message.as_str(), |(m, _)| m);
        return Err(format!("{what} at line {} (each key once: keep the value you mean and delete the other)", e.line()));
    }
    Ok(value)
}

/// Walks a JSON document, failing at the first key that repeats within one object.
struct UniqueKeys {
    path: String,
}

impl<'de> DeserializeSeed<'de> for UniqueKeys {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for UniqueKeys {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                let within = if self.path.is_empty() { String::new() } else { format!(" in {}", self.path) };
                return Err(de::Error::custom(format!("duplicate key \"{key}\"{within}")));
            }
            let path = if self.path.is_empty() { key } else { format!("{}.{key}", self.path) };
            map.next_value_seed(UniqueKeys { path })?;
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut n = 0;
        while seq.next_element_seed(UniqueKeys { path: format!("{}[{n}]", self.path) })?.is_some() {
            n += 1;
        }
        Ok(())
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    // Numbers are skipped, never kept (the document comes from serde_json::from_str above).
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::parse_strict;

    #[test]
    fn duplicate_keys_are_named_with_where_they_sit() {
        let cases = [
            ("{\"a\": 1, \"a\": 2}", "duplicate key \"a\" at line 1 (each key once: keep the value you mean and delete the other)"),
            (
                "{\"answers\": {\"x\": 1,\n \"x\": 5}}",
                "duplicate key \"x\" in answers at line 2 (each key once: keep the value you mean and delete the other)",
            ),
            (
                "{\"w\": [{\"m\": 1}, {\"m\": 1, \"m\": 2}]}",
                "duplicate key \"m\" in w[1] at line 1 (each key once: keep the value you mean and delete the other)",
            ),
        ];
        for (text, message) in cases {
            assert_eq!(parse_strict(text).unwrap_err(), message);
        }
        // The same key in different objects is fine, and numbers keep their exact text.
        let v = parse_strict("{\"a\": {\"k\": 1}, \"b\": {\"k\": 0.1000}}").unwrap();
        assert_eq!(v["b"]["k"].to_string(), "0.1000");
        assert!(parse_strict("{\"a\": ").unwrap_err().starts_with("not valid JSON at line 1 column"));
    }
}
