//! The RPC manifest's format (`src/rpc/manifest.tsv`, read by `mps_internal.rpc_manifest()`):
//! a header line, then one tab-separated line per public function: name, identity argument
//! types, the grant (`anon`: anon, authenticated and service_role; `signed_in`:
//! authenticated and service_role) and the caller kinds allowed past authorization.

const HEADER: [&str; 4] = ["function", "arguments", "grant", "allowed"];
const GRANTS: [&str; 2] = ["anon", "signed_in"];
const CALLER_KINDS: [&str; 9] = [
    "anon",
    "member",
    "other_member",
    "merchant",
    "other_merchant",
    "jwt_member",
    "jwt_staff",
    "service_role",
    "superuser",
];

#[derive(Debug, PartialEq, Eq)]
pub struct Entry {
    pub function: String,
    pub arguments: String,
    pub grant: String,
    pub allowed: Vec<String>,
}

/// Parses the manifest; any line that is not exactly four well-formed fields is an error
/// naming its line number.
pub fn parse(text: &str) -> Result<Vec<Entry>, String> {
    let mut lines = text.lines().enumerate();
    match lines.next() {
        Some((_, header)) if header.split('\t').eq(HEADER) => {}
        _ => return Err(format!("manifest.tsv: the first line must be the header {:?}", HEADER.join("\t"))),
    }
    lines
        .map(|(index, line)| {
            let bad = |why: &str| format!("manifest.tsv line {}: {why}: {line:?}", index + 1);
            let [function, arguments, grant, allowed] = line.split('\t').collect::<Vec<_>>()[..] else {
                return Err(bad("expected 4 tab-separated fields"));
            };
            if function.is_empty() || !function.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
                return Err(bad("the function name must be lower_snake_case"));
            }
            if !GRANTS.contains(&grant) {
                return Err(bad("grant must be anon or signed_in"));
            }
            let allowed: Vec<String> = allowed.split(' ').filter(|k| !k.is_empty()).map(str::to_string).collect();
            if let Some(kind) = allowed.iter().find(|k| !CALLER_KINDS.contains(&k.as_str())) {
                return Err(bad(&format!("unknown caller kind {kind:?}")));
            }
            Ok(Entry {
                function: function.to_string(),
                arguments: arguments.to_string(),
                grant: grant.to_string(),
                allowed,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "function\targuments\tgrant\tallowed\n";

    #[test]
    fn the_shipped_manifest_parses() {
        let entries = parse(include_str!("../rpc/manifest.tsv")).unwrap();
        assert!(entries.iter().any(|e| e.function == "merchant_charge_by_qr" && e.grant == "anon"));
    }

    #[test]
    fn a_row_parses_into_its_fields() {
        let entries = parse(&format!("{HEAD}is_admin\ttext\tanon\tanon member superuser\n")).unwrap();
        let expected = Entry {
            function: "is_admin".into(),
            arguments: "text".into(),
            grant: "anon".into(),
            allowed: vec!["anon".into(), "member".into(), "superuser".into()],
        };
        assert_eq!(entries, vec![expected]);
    }

    #[test]
    fn malformed_lines_are_refused_with_their_line_number() {
        for (body, why) in [
            ("is_admin\ttext\tanon\n", "expected 4 tab-separated fields"),
            ("is_admin\ttext\tpublic\tanon\n", "grant must be anon or signed_in"),
            ("is_admin\ttext\tanon\tanon admin\n", "unknown caller kind \"admin\""),
            ("Is-Admin\ttext\tanon\tanon\n", "lower_snake_case"),
        ] {
            let err = parse(&format!("{HEAD}{body}")).unwrap_err();
            assert!(err.starts_with("manifest.tsv line 2: ") && err.contains(why), "{err}");
        }
        assert!(parse("name\targuments\n").unwrap_err().contains("header"));
    }
}
