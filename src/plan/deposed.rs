//! Deposed objects: under `create_before_destroy`, the old object of a replacement stays in
//! state, under its own key, from before the new object is created until it is deleted. If
//! that delete fails (or the run dies) the next plan deletes it. Each deposed object gets a
//! unique key (`aws_vpc.main (deposed 3f9a0c21)`), so two replacements of one address in a
//! row never overwrite each other's old object.

/// A new state key for the old object of `address`.
pub fn deposed_address(address: &str) -> String {
    let key = uuid::Uuid::new_v4().simple().to_string();
    format!("{address} (deposed {})", &key[..8])
}

/// True for the key of a deposed object.
pub fn is_deposed(address: &str) -> bool {
    address.ends_with(')') && address.contains(" (deposed")
}

/// The address a deposed object was replaced at (`address` itself when not deposed).
pub fn base_of(address: &str) -> &str {
    match address.find(" (deposed") {
        Some(i) if address.ends_with(')') => &address[..i],
        _ => address,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_map_back() {
        let a = deposed_address("aws_vpc.main[0]");
        let b = deposed_address("aws_vpc.main[0]");
        assert_ne!(a, b);
        assert!(is_deposed(&a));
        assert_eq!(base_of(&a), "aws_vpc.main[0]");
        assert_eq!(base_of("aws_vpc.main (deposed)"), "aws_vpc.main");
        assert!(!is_deposed("aws_vpc.main"));
        assert_eq!(base_of("aws_vpc.main"), "aws_vpc.main");
    }
}
