//! What the IAM resources (`aws_iam_role`, `aws_iam_instance_profile`, `aws_iam_policy`)
//! share: the name a create asks for, and recognising the object a killed run created by
//! that name and its tags.

use super::{naming, Cx};
use crate::attrs::Attrs;
use crate::errors::none_if_not_found;
use crate::tags::{self, Tags};
use gantry_provider::provider::Result;
use gantry_provider::Value;

/// The name a create of `planned` asks for: `name`, else `name_prefix` (or `terraform-`)
/// and a suffix from the create's token, so that a retried or recovered create asks for the
/// same name and find_created looks it up directly.
pub fn planned_name(planned: &Value, token: Option<&str>) -> String {
    let a = Attrs(planned);
    naming::unique(a.str("name"), a.str("name_prefix"), "terraform-", token)
}

/// True when the object whose tags `fetched` holds carries this create's stack, address and
/// token ([`tags::are_ours`]); an object that is gone (NotFound) is not ours. IAM objects
/// get their tags in the create call itself, so an object of this create without them does
/// not exist.
pub fn ours(cx: &Cx<'_>, fetched: Result<Tags>) -> Result<bool> {
    Ok(none_if_not_found(fetched)?.is_some_and(|found| tags::are_ours(cx.op, &found)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_planned_name_comes_from_the_name_or_the_prefix_and_the_token() {
        let token = "0f8fad5b-d9cb-469f-a165-70867728950e";
        let named = Value::map([("name", Value::string("trainer"))]);
        assert_eq!(planned_name(&named, Some(token)), "trainer");
        let prefixed = Value::map([
            ("name", Value::unknown()),
            ("name_prefix", Value::string("ml-")),
        ]);
        assert_eq!(
            planned_name(&prefixed, Some(token)),
            "ml-0f8fad5bd9cb469fa165708677"
        );
        // Another create (another token) asks for another name.
        assert_ne!(
            planned_name(&prefixed, Some("11111111-d9cb-469f-a165-70867728950e")),
            planned_name(&prefixed, Some(token))
        );
        assert!(planned_name(&Value::Null, Some(token)).starts_with("terraform-"));
    }
}
