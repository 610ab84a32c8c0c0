//! Request signing: HTTP Message Signatures (RFC 9421) with the device's Ed25519 key
//! (`alg="ed25519"`) — or, for a relaying server, its certificate's P-256 key
//! (`alg="ecdsa-p256-sha256"`, the 64-byte r‖s form of RFC 9421 §3.3.4), over `@method`, `@authority`, `@path` and `content-digest` (RFC 9530,
//! `sha-256`), with `created`, `keyid` (the public key, hex) and a `nonce`. The server maps the
//! key to the device's certificate; `created` bounds the window a nonce must be unique in.
//!
//! Only what hallmark needs of RFC 8941 structured fields is parsed: one or more dictionary
//! members whose value is an inner list of strings with integer or string parameters. The
//! `@signature-params` line is the member's text exactly as received, so parameters in any
//! order (as other implementations write them) verify.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;

/// The label hallmark signs under.
pub const LABEL: &str = "sig1";
/// The components every request must cover.
pub const REQUIRED: [&str; 4] = ["@method", "@authority", "@path", "content-digest"];

/// `Content-Digest` of a body whose SHA-256 is `sha256` (RFC 9530).
pub fn content_digest(sha256: &[u8]) -> String {
    format!("sha-256=:{}:", B64.encode(sha256))
}

/// The SHA-256 a `Content-Digest` header names, if it has a `sha-256` member.
pub fn digest_sha256(header: &str) -> Option<Vec<u8>> {
    header.split(',').find_map(|m| {
        let (k, v) = m.trim().split_once('=')?;
        if k.trim() != "sha-256" {
            return None;
        }
        let v = v.trim().strip_prefix(':')?.strip_suffix(':')?;
        B64.decode(v).ok().filter(|d| d.len() == 32)
    })
}

/// The request as the signature sees it.
pub struct Request<'a> {
    pub method: &'a str,
    pub authority: &'a str,
    pub path: &'a str,
    pub query: Option<&'a str>,
    /// A header's value by lowercase name.
    pub header: &'a dyn Fn(&str) -> Option<String>,
}

/// The two signature algorithms hallmark signs and verifies requests with.
pub const ED25519: &str = "ed25519";
pub const ECDSA_P256: &str = "ecdsa-p256-sha256";

/// Signs a request with an Ed25519 device key: returns the `Signature-Input` and `Signature`
/// header values.
pub fn sign(req: &Request<'_>, keyid: &str, created: i64, nonce: &str, sign: &dyn Fn(&[u8]) -> [u8; 64]) -> Result<(String, String), String> {
    sign_with(req, keyid, created, nonce, ED25519, &|m| sign(m).to_vec())
}

/// Signs a request with the algorithm `alg` ([`ED25519`] or [`ECDSA_P256`]).
pub fn sign_with(
    req: &Request<'_>,
    keyid: &str,
    created: i64,
    nonce: &str,
    alg: &str,
    sign: &dyn Fn(&[u8]) -> Vec<u8>,
) -> Result<(String, String), String> {
    let list = REQUIRED.iter().map(|c| format!("\"{c}\"")).collect::<Vec<_>>().join(" ");
    let params = format!("({list});created={created};keyid=\"{keyid}\";alg=\"{alg}\";nonce=\"{nonce}\"");
    let parsed = parse_params(&params)?;
    let base = signature_base(req, &parsed.components, &params)?;
    let sig = sign(base.as_bytes());
    Ok((format!("{LABEL}={params}"), format!("{LABEL}=:{}:", B64.encode(sig))))
}

/// A signature as received, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    pub label: String,
    pub components: Vec<String>,
    pub created: Option<i64>,
    pub keyid: Option<String>,
    pub alg: Option<String>,
    pub nonce: Option<String>,
    /// The inner list with its parameters, exactly as received.
    pub params: String,
    pub signature: Vec<u8>,
}

/// Reads the first signature of a request (`Signature-Input` and `Signature` headers).
pub fn parse(signature_input: &str, signature: &str) -> Result<Received, String> {
    let (label, params) = first_member(signature_input).ok_or_else(|| format!("Signature-Input '{signature_input}' is not label=(…);params"))?;
    let sigs = dictionary(signature);
    let value = sigs
        .iter()
        .find(|(l, _)| *l == label)
        .map(|(_, v)| *v)
        .ok_or_else(|| format!("the Signature header has no member '{label}' (it must match Signature-Input)"))?;
    let b64 = value
        .trim()
        .strip_prefix(':')
        .and_then(|v| v.strip_suffix(':'))
        .ok_or_else(|| format!("signature '{value}' is not a byte sequence (:base64:)"))?;
    let signature = B64.decode(b64).map_err(|e| format!("signature is not base64: {e}"))?;
    let mut r = parse_params(params)?;
    r.label = label.to_string();
    r.signature = signature;
    Ok(r)
}

/// Checks a received signature over `req` with a public key: 32 bytes for Ed25519, a 65-byte
/// SEC1 point for ECDSA P-256 (a server's certificate key).
pub fn verify(req: &Request<'_>, received: &Received, public_key: &[u8]) -> Result<(), String> {
    for c in REQUIRED {
        if !received.components.iter().any(|x| x == c) {
            return Err(format!("the signature does not cover \"{c}\" (hallmark requires {})", REQUIRED.join(", ")));
        }
    }
    let alg = if public_key.len() == 65 { ECDSA_P256 } else { ED25519 };
    if let Some(given) = &received.alg {
        if given != alg {
            return Err(format!("signature algorithm '{given}' is not accepted for this key ({alg})"));
        }
    }
    let base = signature_base(req, &received.components, &received.params)?;
    let good = match alg {
        ED25519 => received.signature.len() == 64 && hallmark_bundle::signature::verify(public_key, base.as_bytes(), &received.signature),
        _ => ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_FIXED, public_key)
            .verify(base.as_bytes(), &received.signature)
            .is_ok(),
    };
    if !good {
        return Err("the request signature does not verify (altered in transit, or signed by another key)".into());
    }
    Ok(())
}

/// The signature base (RFC 9421 §2.5).
pub fn signature_base(req: &Request<'_>, components: &[String], params: &str) -> Result<String, String> {
    let mut out = String::new();
    for c in components {
        let value = match c.as_str() {
            "@method" => req.method.to_ascii_uppercase(),
            "@authority" => req.authority.to_ascii_lowercase(),
            "@path" => req.path.to_string(),
            "@query" => format!("?{}", req.query.unwrap_or("")),
            c if c.starts_with('@') => return Err(format!("component \"{c}\" is not supported")),
            name => (req.header)(name)
                .map(|v| v.trim().to_string())
                .ok_or_else(|| format!("the signature covers \"{name}\" but the request has no such header"))?,
        };
        if value.contains('\n') {
            return Err(format!("component \"{c}\" holds a newline"));
        }
        out.push_str(&format!("\"{c}\": {value}\n"));
    }
    out.push_str(&format!("\"@signature-params\": {params}"));
    Ok(out)
}

fn parse_params(text: &str) -> Result<Received, String> {
    let bad = |what: &str| format!("Signature-Input '{text}': {what}");
    let inner = text.strip_prefix('(').ok_or_else(|| bad("expected an inner list '(…)'"))?;
    let close = inner.find(')').ok_or_else(|| bad("the inner list is not closed"))?;
    let mut components = Vec::new();
    for item in inner[..close].split_whitespace() {
        let name = item.strip_prefix('"').and_then(|i| i.strip_suffix('"')).ok_or_else(|| bad("components must be quoted strings"))?;
        if components.iter().any(|c| c == name) {
            return Err(bad("a component is listed twice"));
        }
        components.push(name.to_string());
    }
    let mut r = Received {
        label: String::new(),
        components,
        created: None,
        keyid: None,
        alg: None,
        nonce: None,
        params: text.to_string(),
        signature: vec![],
    };
    for p in inner[close + 1..].split(';').skip(1) {
        let (k, v) = p.split_once('=').ok_or_else(|| bad("a parameter has no value"))?;
        let string = || v.strip_prefix('"').and_then(|v| v.strip_suffix('"')).map(str::to_string).ok_or_else(|| bad("expected a quoted string"));
        match k.trim() {
            "created" => r.created = Some(v.parse().map_err(|_| bad("created is not an integer"))?),
            "keyid" => r.keyid = Some(string()?),
            "alg" => r.alg = Some(string()?),
            "nonce" => r.nonce = Some(string()?),
            _ => {}
        }
    }
    Ok(r)
}

/// The first `label=value` member of a dictionary field, value as text.
fn first_member(field: &str) -> Option<(&str, &str)> {
    dictionary(field).into_iter().next()
}

/// Splits a dictionary field into members at top-level commas (not inside quotes, parentheses
/// or byte sequences).
fn dictionary(field: &str) -> Vec<(&str, &str)> {
    let mut parts: Vec<&str> = Vec::new();
    let (mut depth, mut quoted, mut bytes, mut start) = (0i32, false, false, 0usize);
    for (i, ch) in field.char_indices() {
        match ch {
            '"' if !bytes => quoted = !quoted,
            ':' if !quoted => bytes = !bytes,
            '(' if !quoted && !bytes => depth += 1,
            ')' if !quoted && !bytes => depth -= 1,
            ',' if !quoted && !bytes && depth == 0 => {
                parts.push(&field[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&field[start..]);
    parts.into_iter().filter_map(|s| s.split_once('=')).map(|(k, v)| (k.trim(), v.trim())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signer, SigningKey};

    fn request<'a>(header: &'a dyn Fn(&str) -> Option<String>) -> Request<'a> {
        Request { method: "POST", authority: "127.0.0.1:8443", path: "/v1/bundles", query: None, header }
    }

    #[test]
    fn signs_and_verifies_and_any_change_breaks_it() {
        let key = SigningKey::from_bytes(&[7u8; 32]);
        let public = key.verifying_key().to_bytes();
        let digest = content_digest(&[1u8; 32]);
        let d = digest.clone();
        let header = move |n: &str| (n == "content-digest").then(|| d.clone());
        let req = request(&header);
        let (input, sig) = sign(&req, "k", 1_700_000_000, "n1", &|m| key.sign(m).to_bytes()).unwrap();
        let got = parse(&input, &sig).unwrap();
        assert_eq!(got.created, Some(1_700_000_000));
        assert_eq!(got.nonce.as_deref(), Some("n1"));
        verify(&req, &got, &public).unwrap();
        // Each covered component, changed, fails.
        let other = Request { method: "PUT", ..request(&header) };
        assert!(verify(&other, &got, &public).is_err());
        let other = Request { authority: "evil:8443", ..request(&header) };
        assert!(verify(&other, &got, &public).is_err());
        let other = Request { path: "/v1/pull", ..request(&header) };
        assert!(verify(&other, &got, &public).is_err());
        let header2 = |n: &str| (n == "content-digest").then(|| content_digest(&[2u8; 32]));
        assert!(verify(&request(&header2), &got, &public).is_err());
        // A changed parameter (a replayed signature with a new nonce) fails.
        let replay = parse(&input.replace("n1", "n2"), &sig).unwrap();
        assert!(verify(&req, &replay, &public).is_err());
    }

    #[test]
    fn a_relaying_servers_p256_signature_verifies_and_the_algorithm_must_match_the_key() {
        use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap();
        let public = pair.public_key().as_ref().to_vec();
        let d = content_digest(&[3u8; 32]);
        let header = move |n: &str| (n == "content-digest").then(|| d.clone());
        let req = request(&header);
        let sign = |m: &[u8]| pair.sign(&rng, m).unwrap().as_ref().to_vec();
        let (input, sig) = sign_with(&req, "k", 1, "n", ECDSA_P256, &sign).unwrap();
        verify(&req, &parse(&input, &sig).unwrap(), &public).unwrap();
        // The same signature claimed as Ed25519 is refused, and so is another key.
        let claimed = parse(&input.replace(ECDSA_P256, ED25519), &sig).unwrap();
        assert!(verify(&req, &claimed, &public).unwrap_err().contains("not accepted"));
        let other = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let other = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, other.as_ref(), &rng).unwrap();
        assert!(verify(&req, &parse(&input, &sig).unwrap(), other.public_key().as_ref()).is_err());
    }

    #[test]
    fn refuses_signatures_that_leave_out_a_required_component() {
        let key = SigningKey::from_bytes(&[7u8; 32]);
        let header = |_: &str| None;
        let req = request(&header);
        let params = "(\"@method\" \"@path\");created=1;keyid=\"k\"";
        let base = signature_base(&req, &["@method".into(), "@path".into()], params).unwrap();
        let sig = format!("sig1=:{}:", B64.encode(key.sign(base.as_bytes()).to_bytes()));
        let got = parse(&format!("sig1={params}"), &sig).unwrap();
        let e = verify(&req, &got, &key.verifying_key().to_bytes()).unwrap_err();
        assert!(e.contains("\"@authority\""), "{e}");
    }

    #[test]
    fn parses_members_in_any_order_with_commas_inside() {
        let got = parse("a=(\"x\");keyid=\"p,q\", sig1=(\"@method\");created=5", "sig1=:AAAA:, a=:QUJD:").unwrap();
        assert_eq!(got.label, "a");
        assert_eq!(got.keyid.as_deref(), Some("p,q"));
        assert_eq!(got.signature, b"ABC");
        assert_eq!(digest_sha256(&content_digest(&[9u8; 32])), Some(vec![9u8; 32]));
        assert_eq!(digest_sha256("sha-512=:AAAA:"), None);
    }
}
