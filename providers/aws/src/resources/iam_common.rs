//! What the IAM resources (`aws_iam_role`, `aws_iam_instance_profile`, `aws_iam_policy`)
//! share: recognising the object a killed run created, by its name or by its tags.

use super::{naming, Cx};
use crate::errors::none_if_not_found;
use crate::tags::{self, Tags};
use gantry_provider::provider::Result;
use std::future::Future;

/// One page of an IAM List* call (ListRoles, ListInstanceProfiles, ListPolicies).
pub struct Page {
    /// Each object's name and id: the id is what the resource reads by (the name, or a
    /// policy's ARN).
    pub objects: Vec<(String, String)>,
    /// The marker of the next page; `None` on the last one.
    pub next: Option<String>,
}

impl Page {
    /// A page from what the List* call answered (Marker counts only when IsTruncated).
    pub fn new(objects: Vec<(String, String)>, marker: Option<&str>, is_truncated: bool) -> Page {
        Page {
            objects,
            next: marker.filter(|_| is_truncated).map(str::to_owned),
        }
    }
}

/// The id of the object a killed run created with `token`, paging through `list` (which
/// takes the marker of the page to fetch). A generated name carries the token's suffix; a
/// given one is ours when `ours` (which takes the id) finds this operation's tags on it.
pub async fn find_created<L, LFut, O, OFut>(
    token: &str,
    mut list: L,
    mut ours: O,
) -> Result<Option<String>>
where
    L: FnMut(Option<String>) -> LFut,
    LFut: Future<Output = Result<Page>>,
    O: FnMut(String) -> OFut,
    OFut: Future<Output = Result<bool>>,
{
    let suffix = naming::suffix(Some(token));
    let mut marker = None;
    loop {
        let page = list(marker).await?;
        for (name, id) in page.objects {
            if name.ends_with(&suffix) || ours(id.clone()).await? {
                return Ok(Some(id));
            }
        }
        match page.next {
            Some(next) => marker = Some(next),
            None => return Ok(None),
        }
    }
}

/// True when the object whose tags `fetched` holds carries this operation's `gantry:address`
/// and `gantry:stack`; an object that is gone (NotFound) is not ours.
pub fn ours(cx: &Cx<'_>, fetched: Result<Tags>) -> Result<bool> {
    Ok(none_if_not_found(fetched)?.is_some_and(|found| tags::are_ours(cx.op, &found)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    fn page(objects: &[&str], next: Option<&str>) -> Page {
        let objects = objects
            .iter()
            .map(|n| ((*n).to_owned(), format!("id-{n}")))
            .collect();
        Page::new(objects, next, next.is_some())
    }

    #[test]
    fn a_marker_without_truncation_is_the_last_page() {
        assert_eq!(Page::new(Vec::new(), Some("m"), false).next, None);
        assert_eq!(
            Page::new(Vec::new(), Some("m"), true).next.as_deref(),
            Some("m")
        );
    }

    #[tokio::test]
    async fn finds_a_generated_name_on_a_later_page_without_asking_for_tags() {
        let token = "0123456789abcdef0123456789abcdef";
        let ours_name = format!("terraform-{}", naming::suffix(Some(token)));
        let markers = RefCell::new(Vec::new());
        let found = find_created(
            token,
            |marker: Option<String>| {
                markers.borrow_mut().push(marker.clone());
                let page = match marker.as_deref() {
                    None => page(&["other"], Some("p2")),
                    _ => page(&[ours_name.as_str()], None),
                };
                async move { Ok(page) }
            },
            |id| async move { Ok(id == "id-nothing") },
        )
        .await;
        assert_eq!(found, Ok(Some(format!("id-{ours_name}"))));
        assert_eq!(*markers.borrow(), vec![None, Some("p2".to_owned())]);
    }

    #[tokio::test]
    async fn a_given_name_is_ours_by_its_tags_and_nothing_found_is_none() {
        let list = |_| async { Ok(page(&["a", "b"], None)) };
        let found = find_created("t", list, |id| async move { Ok(id == "id-b") }).await;
        assert_eq!(found, Ok(Some("id-b".to_owned())));
        let found = find_created("t", list, |_| async { Ok(false) }).await;
        assert_eq!(found, Ok(None));
    }
}
