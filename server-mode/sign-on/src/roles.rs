//! The role a user's claims give. The site names a claim; its values (a string, or a list
//! of strings; a dotted name reaches into objects, as Keycloak's `realm_access.roles`)
//! are each mapped to a role by the site's table, or, where the site gives no table, taken
//! as a role's own name (`viewer`, `reader`, `admin`). Of several, the highest role wins;
//! a value the table does not name gives nothing.

use hounsfield_access::Role;
use serde_json::{Map, Value};

/// The role `claims` give through `claim` and the site's table `roles` (claim value,
/// role); none when no value gives one.
pub fn role_of(claims: &Map<String, Value>, claim: &str, roles: &[(String, Role)]) -> Option<Role> {
    claim_values(claims, claim)
        .into_iter()
        .filter_map(|value| {
            if roles.is_empty() {
                Role::parse(value)
            } else {
                roles
                    .iter()
                    .find(|(named, _)| named == value)
                    .map(|(_, role)| *role)
            }
        })
        .max()
}

/// The string values of `claim`: by its whole name first (a claim may be named by a URL
/// with dots), else by its dotted path.
fn claim_values<'a>(claims: &'a Map<String, Value>, claim: &str) -> Vec<&'a str> {
    let found = claims.get(claim).or_else(|| {
        let mut parts = claim.split('.');
        let mut at = claims.get(parts.next()?)?;
        for part in parts {
            at = at.as_object()?.get(part)?;
        }
        Some(at)
    });
    match found {
        Some(Value::String(value)) => vec![value.as_str()],
        Some(Value::Array(values)) => values.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(json: &str) -> Map<String, Value> {
        serde_json::from_str(json).expect("claims")
    }

    #[test]
    fn without_a_table_role_names_give_their_roles_and_the_highest_wins() {
        let some = claims(r#"{"groups": ["staff", "viewer", "reader"]}"#);
        assert_eq!(role_of(&some, "groups", &[]), Some(Role::Reader));
        let one = claims(r#"{"role": "admin"}"#);
        assert_eq!(role_of(&one, "role", &[]), Some(Role::Admin));
        assert_eq!(
            role_of(&claims(r#"{"groups": ["staff"]}"#), "groups", &[]),
            None
        );
        assert_eq!(role_of(&one, "groups", &[]), None, "no such claim");
        assert_eq!(role_of(&claims(r#"{"groups": 3}"#), "groups", &[]), None);
    }

    #[test]
    fn a_table_maps_the_sites_groups_and_nothing_else() {
        let table = [
            ("radiology".to_string(), Role::Reader),
            ("ward".to_string(), Role::Viewer),
        ];
        let user = claims(r#"{"groups": ["ward", "admin"]}"#);
        assert_eq!(
            role_of(&user, "groups", &table),
            Some(Role::Viewer),
            "a role's name outside the table gives nothing"
        );
        let both = claims(r#"{"groups": ["ward", "radiology"]}"#);
        assert_eq!(role_of(&both, "groups", &table), Some(Role::Reader));
    }

    #[test]
    fn a_dotted_name_reaches_into_objects_and_a_whole_name_comes_first() {
        let keycloak = claims(r#"{"realm_access": {"roles": ["offline", "reader"]}}"#);
        assert_eq!(
            role_of(&keycloak, "realm_access.roles", &[]),
            Some(Role::Reader)
        );
        let namespaced = claims(r#"{"https://hospital.example/roles": "viewer"}"#);
        assert_eq!(
            role_of(&namespaced, "https://hospital.example/roles", &[]),
            Some(Role::Viewer)
        );
    }
}
