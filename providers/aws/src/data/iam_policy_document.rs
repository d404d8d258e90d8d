//! `aws_iam_policy_document`: an IAM policy built from HCL blocks. Pure logic, no API call.
//!
//! The `json` output is byte for byte what the Terraform AWS provider (v5+) renders, so a
//! stack moved from Terraform shows no policy diff: keys in Terraform's order, empty `Sid`
//! left out, a one-element list written as a string, longer lists of actions, resources and
//! identifiers sorted in reverse, Go's JSON escaping (`<` is `\u003c`), two-space indent.
//! Where Terraform's order comes from its set hashing (several `principals` blocks of one
//! type, several `condition` blocks on one key), the same CRC-32 ordering is reproduced.

use super::DataSource;
use crate::attrs::{Attrs, Obj};
use crate::resources::Cx;
use gantry_provider::provider::Result;
use gantry_provider::{
    async_trait, Attribute, NestedBlock, Nesting, ProviderError, Schema, Type, Value,
};
use std::collections::BTreeMap;

pub struct IamPolicyDocument;

#[async_trait]
impl DataSource for IamPolicyDocument {
    fn name(&self) -> &'static str {
        "aws_iam_policy_document"
    }

    fn schema(&self) -> Schema {
        let strings = || Attribute::optional(Type::set(Type::String));
        let principals = || NestedBlock {
            nesting: Nesting::Set,
            schema: Schema::default()
                .attr("type", Attribute::required(Type::String))
                .attr("identifiers", Attribute::required(Type::set(Type::String))),
            min_items: 0,
            max_items: None,
            force_new: false,
        };
        let statement = Schema::default()
            .attr("sid", Attribute::optional(Type::String))
            .attr(
                "effect",
                Attribute::optional(Type::String).with_default("Allow"),
            )
            .attr("actions", strings())
            .attr("not_actions", strings())
            .attr("resources", strings())
            .attr("not_resources", strings())
            .block("principals", principals())
            .block("not_principals", principals())
            .block(
                "condition",
                NestedBlock {
                    nesting: Nesting::Set,
                    schema: Schema::default()
                        .attr("test", Attribute::required(Type::String))
                        .attr("variable", Attribute::required(Type::String))
                        .attr("values", Attribute::required(Type::list(Type::String))),
                    min_items: 0,
                    max_items: None,
                    force_new: false,
                },
            );
        Schema::default()
            .attr("id", Attribute::computed(Type::String))
            .attr(
                "version",
                Attribute::optional(Type::String).with_default("2012-10-17"),
            )
            .attr("policy_id", Attribute::optional(Type::String))
            .attr(
                "source_policy_documents",
                Attribute::optional(Type::list(Type::String))
                    .describe("Policies whose statements come first (same Sid: error)."),
            )
            .attr(
                "override_policy_documents",
                Attribute::optional(Type::list(Type::String))
                    .describe("Policies whose statements replace those with the same Sid."),
            )
            .attr("json", Attribute::computed(Type::String))
            .attr("minified_json", Attribute::computed(Type::String))
            .block(
                "statement",
                NestedBlock {
                    nesting: Nesting::List,
                    schema: statement,
                    min_items: 0,
                    max_items: None,
                    force_new: false,
                },
            )
    }

    async fn read(&self, _cx: &Cx<'_>, config: &Value) -> Result<Value> {
        render(config)
    }
}

/// The data source's value: `config` with `json`, `minified_json` and `id` filled in.
pub fn render(config: &Value) -> Result<Value> {
    let doc = build(Attrs(config)).map_err(ProviderError::invalid)?;
    let json = doc.to_json();
    let pretty = json.pretty();
    let mut out = Obj::from(config);
    out.set("id", crc32(pretty.as_bytes()).to_string())
        .set("minified_json", json.minified())
        .set("json", pretty);
    Ok(out.into_value())
}

// ---- the document model (Terraform's iamPolicyDoc) ----

#[derive(Clone, Debug, Default, PartialEq)]
struct Doc {
    version: String,
    id: String,
    statements: Vec<Statement>,
}

#[derive(Clone, Debug, Default, PartialEq)]
struct Statement {
    sid: String,
    effect: String,
    action: Option<Json>,
    not_action: Option<Json>,
    resource: Option<Json>,
    not_resource: Option<Json>,
    principal: Vec<Principal>,
    not_principal: Vec<Principal>,
    condition: Vec<Condition>,
}

/// One string, or a list of them (Terraform keeps the two apart until it writes JSON).
#[derive(Clone, Debug, PartialEq)]
enum Strs {
    One(String),
    Many(Vec<String>),
}

#[derive(Clone, Debug, PartialEq)]
struct Principal {
    ty: String,
    ids: Strs,
}

#[derive(Clone, Debug, PartialEq)]
struct Condition {
    test: String,
    variable: String,
    values: Strs,
}

impl Doc {
    /// Terraform's `Merge`: `other`'s Id wins, its Version upgrades ours, its statements
    /// replace ours of the same Sid and are appended otherwise.
    fn merge(&mut self, other: Doc) {
        if !other.id.is_empty() {
            self.id = other.id;
        }
        if other.version > self.version {
            self.version = other.version;
        }
        for statement in other.statements {
            let same = (!statement.sid.is_empty())
                .then(|| self.statements.iter().position(|s| s.sid == statement.sid))
                .flatten();
            match same {
                Some(i) => self.statements[i] = statement,
                None => self.statements.push(statement),
            }
        }
    }

    fn to_json(&self) -> Json {
        let mut fields = Vec::new();
        if !self.version.is_empty() {
            fields.push(("Version", Json::Str(self.version.clone())));
        }
        if !self.id.is_empty() {
            fields.push(("Id", Json::Str(self.id.clone())));
        }
        if !self.statements.is_empty() {
            fields.push((
                "Statement",
                Json::Arr(self.statements.iter().map(Statement::to_json).collect()),
            ));
        }
        Json::obj(fields)
    }
}

impl Statement {
    fn to_json(&self) -> Json {
        let mut fields = Vec::new();
        if !self.sid.is_empty() {
            fields.push(("Sid", Json::Str(self.sid.clone())));
        }
        if !self.effect.is_empty() {
            fields.push(("Effect", Json::Str(self.effect.clone())));
        }
        for (key, value) in [
            ("Action", &self.action),
            ("NotAction", &self.not_action),
            ("Resource", &self.resource),
            ("NotResource", &self.not_resource),
        ] {
            if let Some(v) = value {
                fields.push((key, v.clone()));
            }
        }
        if !self.principal.is_empty() {
            fields.push(("Principal", principals_json(&self.principal)));
        }
        if !self.not_principal.is_empty() {
            fields.push(("NotPrincipal", principals_json(&self.not_principal)));
        }
        if !self.condition.is_empty() {
            fields.push(("Condition", conditions_json(&self.condition)));
        }
        Json::obj(fields)
    }
}

impl Strs {
    /// Terraform's `policyDecodeConfigStrings`: one element stays a string, more are sorted
    /// in reverse.
    fn decoded(mut items: Vec<String>) -> Strs {
        if items.len() == 1 {
            return Strs::One(items.remove(0));
        }
        items.sort();
        items.reverse();
        Strs::Many(items)
    }

    fn to_json(&self) -> Json {
        match self {
            Strs::One(s) => Json::Str(s.clone()),
            Strs::Many(items) => Json::Arr(items.iter().cloned().map(Json::Str).collect()),
        }
    }

    fn map(
        self,
        f: impl Fn(String) -> std::result::Result<String, String>,
    ) -> std::result::Result<Strs, String> {
        Ok(match self {
            Strs::One(s) => Strs::One(f(s)?),
            Strs::Many(items) => Strs::Many(
                items
                    .into_iter()
                    .map(f)
                    .collect::<std::result::Result<_, _>>()?,
            ),
        })
    }
}

/// Terraform's principal set marshalling: `{"*": "*"}` alone is `"*"`; otherwise one key per
/// type (sorted), identifiers of blocks of the same type joined, lists sorted in reverse.
fn principals_json(principals: &[Principal]) -> Json {
    if let [only] = principals {
        let star = match &only.ids {
            Strs::One(s) => s == "*",
            Strs::Many(items) => items.len() == 1 && items[0] == "*",
        };
        if only.ty == "*" && star {
            return Json::Str("*".into());
        }
    }
    let mut raw: BTreeMap<String, Strs> = BTreeMap::new();
    for p in principals {
        let entry = raw.remove(&p.ty);
        let merged = match (&p.ids, entry) {
            (Strs::Many(items), before) => {
                let mut list = match before {
                    None => Vec::new(),
                    Some(Strs::One(v)) => vec![v],
                    Some(Strs::Many(l)) => l,
                };
                let mut items = items.clone();
                items.sort();
                items.reverse();
                list.extend(items);
                Strs::Many(list)
            }
            (Strs::One(s), None) => Strs::One(s.clone()),
            (Strs::One(s), Some(Strs::One(v))) => Strs::Many(vec![v, s.clone()]),
            (Strs::One(s), Some(Strs::Many(mut l))) => {
                l.push(s.clone());
                Strs::Many(l)
            }
        };
        raw.insert(p.ty.clone(), merged);
    }
    Json::Obj(raw.into_iter().map(|(k, v)| (k, v.to_json())).collect())
}

/// Terraform's condition set marshalling: test -> variable -> values (keys sorted), values
/// of blocks on the same test and variable joined, one value written as a string.
fn conditions_json(conditions: &[Condition]) -> Json {
    let mut raw: BTreeMap<String, BTreeMap<String, Vec<String>>> = BTreeMap::new();
    for c in conditions {
        let values = raw
            .entry(c.test.clone())
            .or_default()
            .entry(c.variable.clone())
            .or_default();
        match &c.values {
            Strs::One(s) => values.push(s.clone()),
            Strs::Many(items) => values.extend(items.iter().cloned()),
        }
    }
    Json::Obj(
        raw.into_iter()
            .map(|(test, vars)| {
                let vars = vars
                    .into_iter()
                    .map(|(var, mut values)| {
                        let v = if values.len() == 1 {
                            Json::Str(values.remove(0))
                        } else {
                            Json::Arr(values.into_iter().map(Json::Str).collect())
                        };
                        (var, v)
                    })
                    .collect();
                (test, Json::Obj(vars))
            })
            .collect(),
    )
}

// ---- from the configuration ----

const VERSIONS: [&str; 2] = ["2008-10-17", "2012-10-17"];

fn build(config: Attrs<'_>) -> std::result::Result<Doc, String> {
    let version = config.str("version").unwrap_or("2012-10-17").to_owned();
    if !VERSIONS.contains(&version.as_str()) {
        return Err(format!(
            "`version` must be one of {VERSIONS:?}, not {version:?}"
        ));
    }
    let mut merged = Doc::default();
    let mut sids = std::collections::HashSet::new();
    for (i, text) in config.strs("source_policy_documents").iter().enumerate() {
        let source = parse_doc(text).map_err(|e| format!("merging source document {i}: {e}"))?;
        for (n, s) in source.statements.iter().enumerate() {
            if !s.sid.is_empty() && !sids.insert(s.sid.clone()) {
                return Err(format!(
                    "merging source document {i}: duplicate Sid ({}) in source_policy_documents (statement {n}). Remove the Sid or ensure Sids are unique.",
                    s.sid
                ));
            }
        }
        merged.merge(source);
    }
    let mut doc = Doc {
        version: version.clone(),
        id: config.str("policy_id").unwrap_or_default().to_owned(),
        statements: Vec::new(),
    };
    let mut own_sids = std::collections::HashSet::new();
    for s in config.blocks("statement") {
        let statement = statement_from_config(s, &version)?;
        if !statement.sid.is_empty() && !own_sids.insert(statement.sid.clone()) {
            return Err(format!(
                "duplicate Sid ({}). Remove the Sid or ensure the Sid is unique.",
                statement.sid
            ));
        }
        doc.statements.push(statement);
    }
    merged.merge(doc);
    for (i, text) in config.strs("override_policy_documents").iter().enumerate() {
        let over = parse_doc(text).map_err(|e| format!("merging override document {i}: {e}"))?;
        merged.merge(over);
    }
    Ok(merged)
}

fn statement_from_config(s: Attrs<'_>, version: &str) -> std::result::Result<Statement, String> {
    let sid = s.str("sid").unwrap_or_default().to_owned();
    if !sid.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(format!(
            "statement sid {sid:?} must only include alphanumeric characters"
        ));
    }
    let effect = s.str("effect").unwrap_or("Allow").to_owned();
    if effect != "Allow" && effect != "Deny" {
        return Err(format!(
            "statement effect must be \"Allow\" or \"Deny\", not {effect:?}"
        ));
    }
    let strings = |name: &str, vars: bool| -> std::result::Result<Option<Json>, String> {
        let items = s.strs(name);
        if items.is_empty() {
            return Ok(None);
        }
        let mut decoded = Strs::decoded(items);
        if vars {
            decoded = decoded.map(|v| replace_vars(v, version))?;
        }
        Ok(Some(decoded.to_json()))
    };
    Ok(Statement {
        sid,
        effect,
        action: strings("actions", false)?,
        not_action: strings("not_actions", false)?,
        resource: strings("resources", true)?,
        not_resource: strings("not_resources", true)?,
        principal: principals_from_config(s, "principals", version)?,
        not_principal: principals_from_config(s, "not_principals", version)?,
        condition: conditions_from_config(s, version)?,
    })
}

fn principals_from_config(
    s: Attrs<'_>,
    name: &str,
    version: &str,
) -> std::result::Result<Vec<Principal>, String> {
    let mut blocks: Vec<(String, Vec<String>)> = s
        .blocks(name)
        .iter()
        .map(|b| {
            let ty = b.str("type").unwrap_or_default().to_owned();
            (ty, tf_string_set_order(b.strs("identifiers")))
        })
        .collect();
    // Terraform lists set elements by the hash of their serialization.
    sort_by_tf_hash(&mut blocks, |(ty, ids)| {
        let ids: String = ids.iter().map(|i| format!("{i};")).collect();
        format!("identifiers:{{{ids}}};type:{ty};")
    });
    blocks
        .into_iter()
        .map(|(ty, ids)| {
            let ids = Strs::decoded(ids).map(|v| replace_vars(v, version))?;
            Ok(Principal { ty, ids })
        })
        .collect()
}

fn conditions_from_config(
    s: Attrs<'_>,
    version: &str,
) -> std::result::Result<Vec<Condition>, String> {
    let mut blocks: Vec<(String, String, Vec<String>)> = s
        .blocks("condition")
        .iter()
        .map(|b| {
            (
                b.str("test").unwrap_or_default().to_owned(),
                b.str("variable").unwrap_or_default().to_owned(),
                b.strs("values"),
            )
        })
        .collect();
    sort_by_tf_hash(&mut blocks, |(test, variable, values)| {
        let values: String = values.iter().map(|v| format!("{v};")).collect();
        format!("test:{test};values:({values});variable:{variable};")
    });
    blocks
        .into_iter()
        .map(|(test, variable, values)| {
            let mut values = values
                .into_iter()
                .map(|v| replace_vars(v, version))
                .collect::<std::result::Result<Vec<_>, _>>()?;
            // Condition values keep their order (a list, not a set).
            let values = if values.len() == 1 {
                Strs::One(values.remove(0))
            } else {
                Strs::Many(values)
            };
            Ok(Condition {
                test,
                variable,
                values,
            })
        })
        .collect()
}

/// `&{aws:username}` is how a stack writes the IAM variable `${aws:username}` (HCL would
/// interpolate `${`); version 2008-10-17 has no policy variables.
fn replace_vars(v: String, version: &str) -> std::result::Result<String, String> {
    if !v.contains("&{") {
        return Ok(v);
    }
    if version == "2008-10-17" {
        return Err(format!(
            "found &{{ sequence in ({v}), which is not supported in document version 2008-10-17"
        ));
    }
    Ok(v.replace("&{", "${"))
}

/// A set of strings in Terraform's order (by the hash of `value;`), without duplicates.
fn tf_string_set_order(mut items: Vec<String>) -> Vec<String> {
    items.sort();
    items.dedup();
    sort_by_tf_hash(&mut items, |s| format!("{s};"));
    items
}

/// Sorts set elements as terraform-plugin-sdk lists them: by the decimal text of the
/// CRC-32 of their serialization, compared as strings.
fn sort_by_tf_hash<T>(items: &mut [T], serialize: impl Fn(&T) -> String) {
    items.sort_by_cached_key(|item| crc32(serialize(item).as_bytes()).to_string());
}

/// CRC-32 (IEEE), Terraform's hash code for set elements and this data source's id.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

// ---- from JSON (source and override documents), as Go's encoding/json reads them ----

fn parse_doc(text: &str) -> std::result::Result<Doc, String> {
    let json: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let serde_json::Value::Object(map) = json else {
        return Err("a policy document must be a JSON object".into());
    };
    let mut doc = Doc::default();
    // Go matches field names without regard to case.
    for (key, value) in &map {
        match key.to_ascii_lowercase().as_str() {
            "version" => doc.version = go_string(value, "Version")?,
            "id" => doc.id = go_string(value, "Id")?,
            "statement" => match value {
                serde_json::Value::Array(items) => {
                    doc.statements = items
                        .iter()
                        .map(parse_statement)
                        .collect::<std::result::Result<_, _>>()?;
                }
                serde_json::Value::Null => {}
                _ => {
                    return Err(
                        "cannot unmarshal Statement: a list of statements is required".into(),
                    )
                }
            },
            _ => {}
        }
    }
    Ok(doc)
}

fn parse_statement(value: &serde_json::Value) -> std::result::Result<Statement, String> {
    let serde_json::Value::Object(map) = value else {
        return Err("a statement must be a JSON object".into());
    };
    let mut s = Statement::default();
    for (key, v) in map {
        let any = || (!v.is_null()).then(|| Json::from_serde(v));
        match key.to_ascii_lowercase().as_str() {
            "sid" => s.sid = go_string(v, "Sid")?,
            "effect" => s.effect = go_string(v, "Effect")?,
            "action" => s.action = any(),
            "notaction" => s.not_action = any(),
            "resource" => s.resource = any(),
            "notresource" => s.not_resource = any(),
            "principal" => s.principal = parse_principals(v)?,
            "notprincipal" => s.not_principal = parse_principals(v)?,
            "condition" => s.condition = parse_conditions(v)?,
            _ => {}
        }
    }
    Ok(s)
}

fn go_string(v: &serde_json::Value, field: &str) -> std::result::Result<String, String> {
    match v {
        serde_json::Value::String(s) => Ok(s.clone()),
        serde_json::Value::Null => Ok(String::new()),
        other => Err(format!("cannot unmarshal {other} into {field} (a string)")),
    }
}

fn parse_principals(v: &serde_json::Value) -> std::result::Result<Vec<Principal>, String> {
    match v {
        serde_json::Value::Null => Ok(Vec::new()),
        // Any bare string means everyone.
        serde_json::Value::String(_) => Ok(vec![Principal {
            ty: "*".into(),
            ids: Strs::Many(vec!["*".into()]),
        }]),
        serde_json::Value::Object(map) => map
            .iter()
            .map(|(ty, ids)| {
                let ids = match ids {
                    serde_json::Value::String(s) => Strs::One(s.clone()),
                    serde_json::Value::Array(items) => {
                        let mut list = items
                            .iter()
                            .map(|i| {
                                i.as_str().map(str::to_owned).ok_or_else(|| {
                                    format!("principal {ty:?}: identifiers must be strings")
                                })
                            })
                            .collect::<std::result::Result<Vec<_>, _>>()?;
                        list.sort();
                        Strs::Many(list)
                    }
                    other => return Err(format!("unsupported principal identifiers {other}")),
                };
                Ok(Principal {
                    ty: ty.clone(),
                    ids,
                })
            })
            .collect(),
        other => Err(format!("unsupported principal {other}")),
    }
}

fn parse_conditions(v: &serde_json::Value) -> std::result::Result<Vec<Condition>, String> {
    let serde_json::Value::Object(tests) = v else {
        return if v.is_null() {
            Ok(Vec::new())
        } else {
            Err(format!("unsupported condition {v}"))
        };
    };
    let mut out = Vec::new();
    for (test, vars) in tests {
        let serde_json::Value::Object(vars) = vars else {
            return Err(format!("condition {test:?} must be an object"));
        };
        for (variable, values) in vars {
            // As Terraform: strings and lists of strings, booleans as "true"/"false";
            // other value types are dropped.
            let values = match values {
                serde_json::Value::String(s) => Strs::Many(vec![s.clone()]),
                serde_json::Value::Bool(b) => Strs::One(b.to_string()),
                serde_json::Value::Array(items) => Strs::Many(
                    items
                        .iter()
                        .map(|i| {
                            i.as_str().map(str::to_owned).ok_or_else(|| {
                                format!("condition {test}/{variable}: values must be strings")
                            })
                        })
                        .collect::<std::result::Result<_, _>>()?,
                ),
                _ => continue,
            };
            out.push(Condition {
                test: test.clone(),
                variable: variable.clone(),
                values,
            });
        }
    }
    Ok(out)
}

// ---- JSON written as Go's encoding/json writes it ----

/// A JSON value whose object keys keep the order given.
#[derive(Clone, Debug, PartialEq)]
enum Json {
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
    /// A number, boolean or null, already in its JSON text.
    Raw(String),
}

impl Json {
    fn obj(fields: Vec<(&str, Json)>) -> Json {
        Json::Obj(fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
    }

    fn from_serde(v: &serde_json::Value) -> Json {
        match v {
            serde_json::Value::String(s) => Json::Str(s.clone()),
            serde_json::Value::Array(items) => {
                Json::Arr(items.iter().map(Json::from_serde).collect())
            }
            // Go decodes objects into maps and writes their keys sorted.
            serde_json::Value::Object(map) => {
                let sorted: BTreeMap<&String, &serde_json::Value> = map.iter().collect();
                Json::Obj(
                    sorted
                        .into_iter()
                        .map(|(k, v)| (k.clone(), Json::from_serde(v)))
                        .collect(),
                )
            }
            serde_json::Value::Number(n) => Json::Raw(go_number(n)),
            other => Json::Raw(other.to_string()),
        }
    }

    /// `json.MarshalIndent(doc, "", "  ")`.
    fn pretty(&self) -> String {
        let mut out = String::new();
        self.write(&mut out, Some(0));
        out
    }

    /// `json.Marshal(doc)`.
    fn minified(&self) -> String {
        let mut out = String::new();
        self.write(&mut out, None);
        out
    }

    fn write(&self, out: &mut String, indent: Option<usize>) {
        let newline = |out: &mut String, level: usize| {
            out.push('\n');
            out.push_str(&"  ".repeat(level));
        };
        match self {
            Json::Str(s) => write_go_string(out, s),
            Json::Raw(text) => out.push_str(text),
            Json::Arr(items) if items.is_empty() => out.push_str("[]"),
            Json::Obj(fields) if fields.is_empty() => out.push_str("{}"),
            Json::Arr(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    if let Some(level) = indent {
                        newline(out, level + 1);
                    }
                    item.write(out, indent.map(|l| l + 1));
                }
                if let Some(level) = indent {
                    newline(out, level);
                }
                out.push(']');
            }
            Json::Obj(fields) => {
                out.push('{');
                for (i, (key, value)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    if let Some(level) = indent {
                        newline(out, level + 1);
                    }
                    write_go_string(out, key);
                    out.push(':');
                    if indent.is_some() {
                        out.push(' ');
                    }
                    value.write(out, indent.map(|l| l + 1));
                }
                if let Some(level) = indent {
                    newline(out, level);
                }
                out.push('}');
            }
        }
    }
}

/// A string as Go writes it: HTML-safe (`<`, `>`, `&` as `\u003c`...), U+2028/U+2029
/// escaped, `\b` and `\f` short (Go 1.22+), other control characters as `\u00XX`.
fn write_go_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", u32::from(c)));
            }
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A JSON number as Go writes a float64 decoded from it (`1.0` is written `1`).
fn go_number(n: &serde_json::Number) -> String {
    match n.as_f64() {
        Some(f) if f.fract() == 0.0 && f.abs() < 1e21 => format!("{f:.0}"),
        Some(f) => f.to_string(),
        None => n.to_string(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Renders a configuration given as JSON, after the engine's schema conformance (sets
    /// sorted, defaults filled) exactly as a stack's blocks arrive.
    fn rendered(config: serde_json::Value) -> Value {
        let schema = IamPolicyDocument.schema();
        let conformed = gantry_provider::conform(&schema, &Value::from_json(&config)).unwrap();
        render(&conformed).unwrap()
    }

    fn json_of(config: serde_json::Value) -> String {
        Attrs(&rendered(config)).str("json").unwrap().to_owned()
    }

    fn error_of(config: serde_json::Value) -> String {
        let schema = IamPolicyDocument.schema();
        let conformed = gantry_provider::conform(&schema, &Value::from_json(&config)).unwrap();
        render(&conformed).unwrap_err().message
    }

    #[test]
    fn crc32_is_the_ieee_checksum() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    /// Terraform's acceptance test `TestAccIAMPolicyDocumentDataSource_basic` (partition
    /// `aws`), with the v5 rule that an empty Sid is left out.
    #[test]
    fn terraform_basic_document() {
        let json = json_of(json!({
            "policy_id": "policy_id",
            "statement": [
                {"sid": "1", "actions": ["s3:ListAllMyBuckets", "s3:GetBucketLocation"],
                 "resources": ["arn:aws:s3:::*"]},
                {"actions": ["s3:ListBucket"], "resources": ["arn:aws:s3:::foo"],
                 "condition": [{"test": "StringLike", "variable": "s3:prefix",
                                "values": ["home/", "", "home/&{aws:username}/"]}],
                 "not_principals": [{"type": "AWS", "identifiers": ["arn:blahblah:example"]}]},
                {"actions": ["s3:*"],
                 "resources": ["arn:aws:s3:::foo/home/&{aws:username}",
                               "arn:aws:s3:::foo/home/&{aws:username}/*"],
                 "principals": [{"type": "AWS", "identifiers": ["arn:blahblah:example"]}]},
                {"effect": "Deny", "not_actions": ["s3:*"], "not_resources": ["arn:aws:s3:::*"]},
                {"effect": "Allow", "actions": ["kinesis:*"],
                 "principals": [{"type": "AWS", "identifiers": ["*"]}]},
                {"effect": "Allow", "actions": ["firehose:*"],
                 "principals": [{"type": "*", "identifiers": ["*"]}]}
            ]
        }));
        assert_eq!(
            json,
            r#"{
  "Version": "2012-10-17",
  "Id": "policy_id",
  "Statement": [
    {
      "Sid": "1",
      "Effect": "Allow",
      "Action": [
        "s3:ListAllMyBuckets",
        "s3:GetBucketLocation"
      ],
      "Resource": "arn:aws:s3:::*"
    },
    {
      "Effect": "Allow",
      "Action": "s3:ListBucket",
      "Resource": "arn:aws:s3:::foo",
      "NotPrincipal": {
        "AWS": "arn:blahblah:example"
      },
      "Condition": {
        "StringLike": {
          "s3:prefix": [
            "home/",
            "",
            "home/${aws:username}/"
          ]
        }
      }
    },
    {
      "Effect": "Allow",
      "Action": "s3:*",
      "Resource": [
        "arn:aws:s3:::foo/home/${aws:username}/*",
        "arn:aws:s3:::foo/home/${aws:username}"
      ],
      "Principal": {
        "AWS": "arn:blahblah:example"
      }
    },
    {
      "Effect": "Deny",
      "NotAction": "s3:*",
      "NotResource": "arn:aws:s3:::*"
    },
    {
      "Effect": "Allow",
      "Action": "kinesis:*",
      "Principal": {
        "AWS": "*"
      }
    },
    {
      "Effect": "Allow",
      "Action": "firehose:*",
      "Principal": "*"
    }
  ]
}"#
        );
    }

    /// `TestAccIAMPolicyDocumentDataSource_singleConditionValue`.
    #[test]
    fn a_single_condition_value_is_a_string() {
        let json = json_of(json!({"statement": [{
            "effect": "Deny",
            "principals": [{"type": "AWS", "identifiers": ["*"]}],
            "actions": ["elasticfilesystem:*"],
            "resources": ["*"],
            "condition": [{"test": "Bool", "variable": "aws:SecureTransport", "values": ["false"]}]
        }]}));
        assert_eq!(
            json,
            r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Deny",
      "Action": "elasticfilesystem:*",
      "Resource": "*",
      "Principal": {
        "AWS": "*"
      },
      "Condition": {
        "Bool": {
          "aws:SecureTransport": "false"
        }
      }
    }
  ]
}"#
        );
    }

    /// `..._StatementPrincipalIdentifiers_stringAndSlice`: a one-identifier block and a
    /// two-identifier block of the same type are joined, the string first.
    #[test]
    fn principal_blocks_of_one_type_are_joined() {
        let json = json_of(json!({"statement": [{
            "actions": ["*"], "resources": ["*"],
            "sid": "StatementPrincipalIdentifiersStringAndSlice",
            "principals": [
                {"type": "AWS", "identifiers": ["arn:aws:iam::111111111111:root"]},
                {"type": "AWS", "identifiers": ["arn:aws:iam::222222222222:root",
                                                "arn:aws:iam::333333333333:root"]}
            ]
        }]}));
        assert!(
            json.contains(
                r#"      "Principal": {
        "AWS": [
          "arn:aws:iam::111111111111:root",
          "arn:aws:iam::333333333333:root",
          "arn:aws:iam::222222222222:root"
        ]
      }"#
            ),
            "{json}"
        );
    }

    /// `..._StatementPrincipalIdentifiers_multiplePrincipals` and its GovCloud twin: the
    /// order of blocks comes from Terraform's set hashing, different per partition.
    #[test]
    fn principal_block_order_follows_terraform_set_hashing() {
        for (partition, expected) in [
            (
                "aws",
                [
                    "333333333333",
                    "444444444444",
                    "222222222222",
                    "111111111111",
                ],
            ),
            (
                "aws-us-gov",
                [
                    "333333333333",
                    "222222222222",
                    "111111111111",
                    "444444444444",
                ],
            ),
        ] {
            let arn = |acct: &str| format!("arn:{partition}:iam::{acct}:root");
            let json = json_of(json!({"statement": [{
                "actions": ["*"], "resources": ["*"],
                "principals": [
                    {"type": "AWS", "identifiers": [arn("111111111111"), arn("222222222222")]},
                    {"type": "AWS", "identifiers": [arn("333333333333")]},
                    {"type": "AWS", "identifiers": [arn("444444444444")]}
                ]
            }]}));
            let ids: Vec<String> = expected.iter().map(|a| format!("\"{}\"", arn(a))).collect();
            let want = format!(
                "\"AWS\": [\n          {}\n        ]",
                ids.join(",\n          ")
            );
            assert!(json.contains(&want), "{partition}:\n{json}");
        }
    }

    /// The Terraform documentation's assume-role example.
    #[test]
    fn assume_role_policy_for_a_service() {
        let v = rendered(json!({"statement": [{
            "actions": ["sts:AssumeRole"],
            "principals": [{"type": "Service", "identifiers": ["ec2.amazonaws.com"]}]
        }]}));
        let a = Attrs(&v);
        assert_eq!(
            a.str("json").unwrap(),
            r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": "sts:AssumeRole",
      "Principal": {
        "Service": "ec2.amazonaws.com"
      }
    }
  ]
}"#
        );
        assert_eq!(
            a.str("minified_json").unwrap(),
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"Service":"ec2.amazonaws.com"}}]}"#
        );
        // The id is Terraform's: the CRC-32 of the JSON, in decimal.
        assert_eq!(
            a.str("id").unwrap(),
            crc32(a.str("json").unwrap().as_bytes()).to_string()
        );
        // The configuration is kept alongside.
        assert_eq!(a.blocks("statement").len(), 1);
    }

    /// Several principal types: keys sorted, multi-identifier lists sorted in reverse.
    #[test]
    fn principal_types_are_sorted_and_identifiers_reverse_sorted() {
        let json = json_of(json!({"statement": [{
            "actions": ["sts:AssumeRole", "sts:TagSession"],
            "principals": [
                {"type": "Service", "identifiers": ["ec2.amazonaws.com", "eks.amazonaws.com"]},
                {"type": "AWS", "identifiers": ["arn:aws:iam::123456789012:root"]}
            ]
        }]}));
        assert!(
            json.contains(
                r#"      "Action": [
        "sts:TagSession",
        "sts:AssumeRole"
      ],
      "Principal": {
        "AWS": "arn:aws:iam::123456789012:root",
        "Service": [
          "eks.amazonaws.com",
          "ec2.amazonaws.com"
        ]
      }"#
            ),
            "{json}"
        );
    }

    /// Conditions: tests and variables sorted, blocks on one key joined, values in order.
    #[test]
    fn conditions_are_grouped_by_test_and_variable() {
        let json = json_of(json!({"statement": [{
            "actions": ["s3:GetObject"],
            "resources": ["*"],
            "condition": [
                {"test": "StringEquals", "variable": "aws:PrincipalTag/team", "values": ["ml"]},
                {"test": "IpAddress", "variable": "aws:SourceIp", "values": ["10.0.0.0/8", "192.168.0.0/16"]}
            ]
        }]}));
        assert!(
            json.contains(
                r#"      "Condition": {
        "IpAddress": {
          "aws:SourceIp": [
            "10.0.0.0/8",
            "192.168.0.0/16"
          ]
        },
        "StringEquals": {
          "aws:PrincipalTag/team": "ml"
        }
      }"#
            ),
            "{json}"
        );
    }

    #[test]
    fn no_statement_gives_version_only() {
        assert_eq!(json_of(json!({})), "{\n  \"Version\": \"2012-10-17\"\n}");
    }

    #[test]
    fn strings_are_escaped_as_go_does() {
        let json = json_of(json!({"statement": [{
            "actions": ["s3:GetObject"],
            "resources": ["arn:aws:s3:::b/<a>&\"q\"\\"],
        }]}));
        assert!(
            json.contains(r#""Resource": "arn:aws:s3:::b/\u003ca\u003e\u0026\"q\"\\""#),
            "{json}"
        );
    }

    /// `..._sourceList`: statements of source documents come first, in order.
    #[test]
    fn source_documents_merge_in_order() {
        let a = json_of(json!({"statement": [
            {"sid": "", "effect": "Allow", "actions": ["foo:ActionOne"]},
            {"sid": "validSidOne", "effect": "Allow", "actions": ["bar:ActionOne"]}
        ]}));
        let b = json_of(json!({"statement": [
            {"sid": "validSidTwo", "effect": "Deny", "actions": ["foo:ActionTwo"]}
        ]}));
        let c = json_of(json!({"statement": [
            {"sid": "", "effect": "Allow", "actions": ["bar:ActionTwo"]}
        ]}));
        let merged =
            json_of(json!({"version": "2012-10-17", "source_policy_documents": [a, b, c]}));
        assert_eq!(
            merged,
            r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": "foo:ActionOne"
    },
    {
      "Sid": "validSidOne",
      "Effect": "Allow",
      "Action": "bar:ActionOne"
    },
    {
      "Sid": "validSidTwo",
      "Effect": "Deny",
      "Action": "foo:ActionTwo"
    },
    {
      "Effect": "Allow",
      "Action": "bar:ActionTwo"
    }
  ]
}"#
        );
    }

    /// `..._sourceListConflicting`: one Sid in two source documents is an error.
    #[test]
    fn duplicate_sids_across_source_documents_are_an_error() {
        let a =
            json_of(json!({"statement": [{"sid": "conflictSid", "actions": ["bar:ActionOne"]}]}));
        let c =
            json_of(json!({"statement": [{"sid": "conflictSid", "actions": ["bar:ActionTwo"]}]}));
        let err = error_of(json!({"source_policy_documents": [a, c]}));
        assert!(err.contains("duplicate Sid (conflictSid)"), "{err}");
    }

    /// `..._overrideList`: a later document's statement replaces the one with its Sid, in
    /// place.
    #[test]
    fn override_documents_replace_statements_with_the_same_sid() {
        let a = json_of(json!({"statement": [
            {"sid": "", "effect": "Allow", "actions": ["foo:ActionOne"]},
            {"sid": "overrideSid", "effect": "Allow", "actions": ["bar:ActionOne"]}
        ]}));
        let b = json_of(json!({"statement": [
            {"sid": "validSid", "effect": "Deny", "actions": ["foo:ActionTwo"]}
        ]}));
        let c = json_of(json!({"statement": [
            {"sid": "overrideSid", "effect": "Deny", "actions": ["bar:ActionOne"]}
        ]}));
        let merged =
            json_of(json!({"version": "2012-10-17", "override_policy_documents": [a, b, c]}));
        assert_eq!(
            merged,
            r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": "foo:ActionOne"
    },
    {
      "Sid": "overrideSid",
      "Effect": "Deny",
      "Action": "bar:ActionOne"
    },
    {
      "Sid": "validSid",
      "Effect": "Deny",
      "Action": "foo:ActionTwo"
    }
  ]
}"#
        );
    }

    /// A hand-written source document keeps its lists as written; `"*"` principals and
    /// boolean conditions are read as Terraform reads them.
    #[test]
    fn source_documents_are_read_as_terraform_reads_them() {
        let source = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow"}}"#;
        assert!(error_of(json!({"source_policy_documents": [source]}))
            .contains("merging source document 0"));
        let source = r#"{"version":"2012-10-17","statement":[{"Effect":"Allow",
            "Action":["b:x","a:y"],"Principal":"*",
            "Condition":{"Bool":{"aws:SecureTransport":true},"StringLike":{"k":["v"]}}}]}"#;
        let json = json_of(json!({"source_policy_documents": [source]}));
        assert_eq!(
            json,
            r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": [
        "b:x",
        "a:y"
      ],
      "Principal": "*",
      "Condition": {
        "Bool": {
          "aws:SecureTransport": "true"
        },
        "StringLike": {
          "k": "v"
        }
      }
    }
  ]
}"#
        );
    }

    /// `..._duplicateSid` and the checks Terraform's schema makes.
    #[test]
    fn invalid_documents_are_refused() {
        let dup = error_of(json!({"statement": [
            {"sid": "1", "actions": ["ec2:DescribeAccountAttributes"], "resources": ["*"]},
            {"sid": "1", "actions": ["s3:GetObject"], "resources": ["*"]}
        ]}));
        assert!(dup.contains("duplicate Sid (1)"), "{dup}");
        let blank = json_of(json!({"statement": [
            {"sid": "", "actions": ["ec2:DescribeAccountAttributes"], "resources": ["*"]},
            {"sid": "", "actions": ["s3:GetObject"], "resources": ["*"]}
        ]}));
        assert_eq!(blank.matches("\"Effect\"").count(), 2);
        assert!(error_of(json!({"version": "2020-01-01"})).contains("`version`"));
        assert!(error_of(json!({"statement": [{"effect": "allow"}]})).contains("effect"));
        assert!(error_of(json!({"statement": [{"sid": "no-dashes"}]})).contains("alphanumeric"));
    }

    /// `..._version20081017`: `&{` has no meaning before policy variables existed.
    #[test]
    fn version_2008_has_no_policy_variables() {
        for statement in [
            json!({"actions": ["*"], "resources": ["*"], "condition": [
                {"test": "StringLike", "variable": "s3:prefix", "values": ["home/", "home/&{aws:username}/"]}]}),
            json!({"actions": ["*"], "resources": ["*"], "not_principals": [
                {"type": "AWS", "identifiers": ["&{aws:username}"]}]}),
            json!({"actions": ["*"], "not_resources": ["arn:aws:s3:::foo/home/&{aws:username}"]}),
            json!({"actions": ["*"], "resources": ["*"], "principals": [
                {"type": "AWS", "identifiers": ["&{aws:username}"]}]}),
            json!({"actions": ["*"], "resources": ["arn:aws:s3:::foo/home/&{aws:username}"]}),
        ] {
            let err = error_of(json!({"version": "2008-10-17", "statement": [statement]}));
            assert!(
                err.contains("which is not supported in document version 2008-10-17"),
                "{err}"
            );
        }
        let json = json_of(
            json!({"version": "2008-10-17", "statement": [{"actions": ["ec2:*"], "resources": ["*"]}]}),
        );
        assert_eq!(
            json,
            r#"{
  "Version": "2008-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": "ec2:*",
      "Resource": "*"
    }
  ]
}"#
        );
    }
}
