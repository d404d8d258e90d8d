//! Policy documents held as JSON strings (IAM role trust policies, IAM policies, KMS key
//! policies): compared by meaning, not by text, as Terraform does, so that a reformatted
//! equal policy, or the form AWS hands back (URL-encoded, account ids turned into root
//! ARNs, one-element lists as strings, statements reordered), is not a diff.

use gantry_provider::{PlannedState, Value};
use serde_json::{Map, Value as Json};

/// The document as AWS returned it: IAM URL-encodes policy documents (RFC 3986).
pub fn decode(raw: &str) -> String {
    if serde_json::from_str::<Json>(raw).is_ok() {
        return raw.to_owned();
    }
    percent_decode(raw)
}

/// True when both are JSON and grant the same thing.
pub fn equivalent(a: &str, b: &str) -> bool {
    match (canonical(a), canonical(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

/// What state records for a document read from AWS: the prior text when it says the same
/// (keeping the user's formatting), else what AWS holds (drift).
pub fn settle(prior: Option<&str>, cloud: &str) -> String {
    let cloud = decode(cloud);
    match prior {
        Some(p) if equivalent(p, &cloud) => p.to_owned(),
        _ => cloud,
    }
}

/// In a plan, a configured document equivalent to the prior one is no change: keep the
/// prior text so the plan shows none.
pub fn plan_equivalent(planned: &mut PlannedState, prior: Option<&Value>, attr: &str) {
    let Some(before) = prior
        .and_then(|p| p.as_map())
        .and_then(|m| m.get(attr))
        .and_then(Value::as_str)
    else {
        return;
    };
    if let Value::Map(map) = &mut planned.value {
        let same = map
            .get(attr)
            .and_then(Value::as_str)
            .is_some_and(|after| after != before && equivalent(before, after));
        if same {
            map.insert(attr.to_owned(), Value::string(before));
            planned.requires_replace.retain(|p| p != attr);
        }
    }
}

/// A validation message when `attr` of `config` is set, known and not a JSON object.
pub fn check(config: &Value, attr: &str) -> Option<String> {
    let text = config.as_map()?.get(attr)?.as_str()?;
    match serde_json::from_str::<Json>(text) {
        Ok(Json::Object(_)) => None,
        Ok(_) => Some(format!("`{attr}` must be a JSON object")),
        Err(e) => Some(format!("`{attr}` is not valid JSON: {e}")),
    }
}

/// The document in a canonical form: statements as a sorted list, element lists as sorted
/// sets, `"*"` principals as `{"AWS": ["*"]}`, 12-digit account principals as root ARNs,
/// condition values as sorted strings, empty `Sid` dropped.
fn canonical(text: &str) -> Option<Json> {
    let Json::Object(doc) = serde_json::from_str::<Json>(text).ok()? else {
        return None;
    };
    let mut out = Map::new();
    for (key, value) in doc {
        if key == "Statement" {
            let statements = match value {
                Json::Array(items) => items,
                other => vec![other],
            };
            let mut canon: Vec<Json> = statements
                .into_iter()
                .map(|s| sorted_keys(statement(s)))
                .collect();
            canon.sort_by_key(ToString::to_string);
            out.insert(key, Json::Array(canon));
        } else {
            out.insert(key, value);
        }
    }
    Some(Json::Object(out))
}

/// Objects rebuilt with their keys in order, so that the text of equal values is equal
/// (serde_json may keep insertion order).
fn sorted_keys(value: Json) -> Json {
    match value {
        Json::Object(map) => {
            let sorted: std::collections::BTreeMap<String, Json> = map.into_iter().collect();
            Json::Object(
                sorted
                    .into_iter()
                    .map(|(k, v)| (k, sorted_keys(v)))
                    .collect(),
            )
        }
        Json::Array(items) => Json::Array(items.into_iter().map(sorted_keys).collect()),
        other => other,
    }
}

fn statement(value: Json) -> Json {
    let Json::Object(map) = value else {
        return value;
    };
    let mut out = Map::new();
    for (key, v) in map {
        let v = match key.as_str() {
            "Sid" if v.as_str() == Some("") => continue,
            "Action" | "NotAction" | "Resource" | "NotResource" => string_set(v),
            "Principal" | "NotPrincipal" => principal(v),
            "Condition" => condition(v),
            _ => v,
        };
        out.insert(key, v);
    }
    Json::Object(out)
}

/// A string or list of scalars as a sorted, de-duplicated list of strings.
fn string_set(v: Json) -> Json {
    let mut items: Vec<String> = match v {
        Json::Array(items) => items.into_iter().map(scalar_text).collect(),
        other => vec![scalar_text(other)],
    };
    items.sort();
    items.dedup();
    Json::Array(items.into_iter().map(Json::String).collect())
}

fn scalar_text(v: Json) -> String {
    match v {
        Json::String(s) => s,
        other => other.to_string(),
    }
}

fn principal(v: Json) -> Json {
    let map = match v {
        Json::String(s) if s == "*" => {
            let mut m = Map::new();
            m.insert("AWS".into(), Json::String(s));
            m
        }
        Json::Object(m) => m,
        other => return other,
    };
    Json::Object(
        map.into_iter()
            .map(|(ty, ids)| {
                let ids = match string_set(ids) {
                    Json::Array(items) if ty == "AWS" => {
                        let mut items: Vec<String> = items
                            .into_iter()
                            .map(|i| account_root(scalar_text(i)))
                            .collect();
                        items.sort();
                        items.dedup();
                        Json::Array(items.into_iter().map(Json::String).collect())
                    }
                    other => other,
                };
                (ty, ids)
            })
            .collect(),
    )
}

/// IAM stores a bare account id principal as the account's root ARN.
fn account_root(id: String) -> String {
    if id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()) {
        format!("arn:aws:iam::{id}:root")
    } else {
        id
    }
}

fn condition(v: Json) -> Json {
    let Json::Object(tests) = v else {
        return v;
    };
    Json::Object(
        tests
            .into_iter()
            .map(|(test, vars)| {
                let vars = match vars {
                    Json::Object(vars) => Json::Object(
                        vars.into_iter()
                            .map(|(k, values)| (k, string_set(values)))
                            .collect(),
                    ),
                    other => other,
                };
                (test, vars)
            })
            .collect(),
    )
}

/// `%XX` sequences decoded (the rest kept); invalid UTF-8 replaced.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"Service":"ec2.amazonaws.com"}}]}"#;

    #[test]
    fn reformatted_documents_are_equivalent() {
        let pretty = r#"{
          "Version": "2012-10-17",
          "Statement": {
            "Sid": "",
            "Principal": {"Service": ["ec2.amazonaws.com"]},
            "Action": ["sts:AssumeRole", "sts:AssumeRole"],
            "Effect": "Allow"
          }
        }"#;
        assert!(equivalent(TRUST, pretty));
        assert!(!equivalent(TRUST, &TRUST.replace("ec2.", "eks.")));
    }

    #[test]
    fn statement_and_list_order_do_not_matter() {
        let a = r#"{"Statement":[{"Effect":"Allow","Action":["a:1","b:2"],"Resource":"*"},{"Effect":"Deny","Action":"c:3","Resource":"*"}]}"#;
        let b = r#"{"Statement":[{"Effect":"Deny","Action":["c:3"],"Resource":["*"]},{"Resource":"*","Effect":"Allow","Action":["b:2","a:1"]}]}"#;
        assert!(equivalent(a, b));
    }

    #[test]
    fn what_iam_hands_back_is_equivalent() {
        let sent = r#"{"Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"AWS":"123456789012"},"Condition":{"Bool":{"aws:MultiFactorAuthPresent":true}}}]}"#;
        let back = "%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22sts%3AAssumeRole%22%2C%22Principal%22%3A%7B%22AWS%22%3A%22arn%3Aaws%3Aiam%3A%3A123456789012%3Aroot%22%7D%2C%22Condition%22%3A%7B%22Bool%22%3A%7B%22aws%3AMultiFactorAuthPresent%22%3A%22true%22%7D%7D%7D%5D%7D";
        assert!(equivalent(sent, &decode(back)));
        assert_eq!(settle(Some(sent), back), sent);
        let changed = settle(Some(sent), &back.replace("Allow", "Deny"));
        assert!(changed.contains("Deny"));
        assert!(equivalent(
            r#"{"Statement":[{"Principal":"*"}]}"#,
            r#"{"Statement":[{"Principal":{"AWS":["*"]}}]}"#
        ));
    }

    #[test]
    fn planning_an_equivalent_document_is_no_change() {
        let prior = Value::map([("policy", Value::string(TRUST))]);
        let reformatted =
            serde_json::to_string_pretty(&serde_json::from_str::<Json>(TRUST).unwrap_or_default())
                .unwrap_or_default();
        let mut planned = PlannedState {
            value: Value::map([("policy", Value::string(reformatted))]),
            requires_replace: vec!["policy".into()],
        };
        plan_equivalent(&mut planned, Some(&prior), "policy");
        assert_eq!(planned.value, prior);
        assert!(planned.requires_replace.is_empty());
    }

    #[test]
    fn only_json_objects_pass_the_check() {
        let v = |s: &str| Value::map([("policy", Value::string(s))]);
        assert_eq!(check(&v(TRUST), "policy"), None);
        assert!(check(&v("{nope"), "policy").is_some_and(|m| m.contains("not valid JSON")));
        assert!(check(&v("[1]"), "policy").is_some());
        assert_eq!(
            check(&Value::map([("policy", Value::unknown())]), "policy"),
            None
        );
    }
}
