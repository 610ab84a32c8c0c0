//! Exact decimal numbers as written in rubric and observation files.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer};

/// A decimal read exactly from a TOML string, integer or float literal.
///
/// Floats are converted through their shortest decimal representation, which
/// is exactly what a person typed for any value with fewer than 16 digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Num(pub Decimal);

impl Num {
    pub fn get(self) -> Decimal {
        self.0
    }
}

impl From<Decimal> for Num {
    fn from(d: Decimal) -> Self {
        Num(d)
    }
}

/// Parses a decimal written by a person, e.g. "0.5", "150", "-3".
pub fn parse_decimal(text: &str) -> Option<Decimal> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    Decimal::from_str_exact(t).ok().or_else(|| Decimal::from_scientific(t).ok())
}

/// Formats a decimal the way Chinese score sheets print it: no trailing zeros.
pub fn fmt(d: Decimal) -> String {
    d.normalize().to_string()
}

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NumVisitor;
        impl Visitor<'_> for NumVisitor {
            type Value = Num;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number such as 2 or \"0.5\"")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Num, E> {
                Ok(Num(Decimal::from(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Num, E> {
                Ok(Num(Decimal::from(v)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Num, E> {
                if !v.is_finite() {
                    return Err(E::custom(format!("'{v}' is not a number (write it like \"0.5\")")));
                }
                Decimal::from_str(&format!("{v}")).map(Num).map_err(|_| E::custom(format!("'{v}' is out of range (write it like \"0.5\")")))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Num, E> {
                parse_decimal(v).map(Num).ok_or_else(|| E::custom(format!("'{v}' is not a number (write it like \"0.5\")")))
            }
        }
        deserializer.deserialize_any(NumVisitor)
    }
}

impl serde::Serialize for Num {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&fmt(self.0))
    }
}

impl fmt::Display for Num {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&fmt(self.0))
    }
}
