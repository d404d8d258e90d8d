//! Between gantry values and the JSON wire shape of the google-cloud-rust models: a
//! resource builds the request body as the API's JSON (camelCase, as the discovery
//! documents name it) and turns it into the model type; answers are read back from the
//! model's JSON. This keeps each resource type a list of field names.

use gantry_provider::{ProviderError, Value};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value as Json};

/// The model type of a request body built as JSON.
pub fn to_model<T: DeserializeOwned>(what: &str, json: Json) -> Result<T, ProviderError> {
    serde_json::from_value(json).map_err(|e| {
        ProviderError::invalid(format!("{what}: the request does not fit the API: {e}"))
    })
}

/// The JSON of an answer.
pub fn from_model<T: Serialize>(model: &T) -> Json {
    serde_json::to_value(model).unwrap_or(Json::Null)
}

/// A JSON object under construction: unset values are left out, so the API applies its
/// defaults.
#[derive(Default)]
pub struct Body(pub Map<String, Json>);

impl Body {
    pub fn new() -> Body {
        Body::default()
    }

    /// Sets `field` from a known, non-null value.
    pub fn set(&mut self, field: &str, value: Option<&Value>) -> &mut Body {
        if let Some(v) = value.filter(|v| !v.is_null() && v.is_wholly_known()) {
            self.0.insert(field.to_owned(), v.unmarked().to_json());
        }
        self
    }

    pub fn put(&mut self, field: &str, json: Json) -> &mut Body {
        self.0.insert(field.to_owned(), json);
        self
    }

    pub fn into_json(self) -> Json {
        Json::Object(self.0)
    }
}

/// The last segment of a self link or relative name (`.../networks/default` → `default`).
pub fn last_segment(link: &str) -> &str {
    link.rsplit('/').next().unwrap_or(link)
}

/// A string the API answers with, as a value: null when empty (proto3 JSON's unset).
pub fn non_empty(s: &str) -> gantry_provider::Value {
    if s.is_empty() {
        gantry_provider::Value::Null
    } else {
        gantry_provider::Value::string(s)
    }
}

/// A string field of an answer.
pub fn str_at<'a>(json: &'a Json, field: &str) -> Option<&'a str> {
    json.get(field).and_then(Json::as_str)
}

/// `projects/p/global/networks/n` from `https://www.googleapis.com/compute/v1/projects/...`
/// (ids are relative names, as Terraform's are).
pub fn relative_name(self_link: &str) -> String {
    match self_link.find("projects/") {
        Some(i) => self_link[i..].to_owned(),
        None => self_link.to_owned(),
    }
}

/// True when two references name the same object (a name, a relative name or a self link).
pub fn same_reference(a: &str, b: &str) -> bool {
    a == b
        || relative_name(a) == relative_name(b)
        || last_segment(a) == last_segment(b) && (!a.contains('/') || !b.contains('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_compare_by_what_they_name() {
        let link = "https://www.googleapis.com/compute/v1/projects/p/global/networks/n";
        assert_eq!(relative_name(link), "projects/p/global/networks/n");
        assert!(same_reference(link, "projects/p/global/networks/n"));
        assert!(same_reference(link, "n"));
        assert!(!same_reference(link, "projects/q/global/networks/n"));
        assert!(!same_reference(link, "m"));
        assert_eq!(last_segment(link), "n");
    }
}
