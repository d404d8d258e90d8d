//! Credentials as CI uses them: OIDC (workload identity federation) with the token from a
//! file, and from GitHub Actions' token service (ACTIONS_ID_TOKEN_REQUEST_URL and _TOKEN,
//! asked for the `api://AzureADTokenExchange` audience); the token reaches Entra's token
//! endpoint as the client assertion, and no secret is involved. A managed identity (App
//! Service's endpoint, IDENTITY_ENDPOINT and IDENTITY_HEADER) gives the token instead, or
//! the Azure CLI's login (`az account get-access-token`; here a stand-in `az` on PATH that
//! answers with the CLI's documented JSON, its token from the fake's Entra endpoint). No
//! credentials at all is an error naming every source tried.

use crate::support::{python, Fake, CLIENT_ID, CLIENT_SECRET, MSI_SECRET, SUBSCRIPTION, TENANT};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

fn oidc_block(fake: &Fake, extra: &str) -> String {
    format!(
        "provider \"azurerm\" {{\n  subscription_id = \"{SUBSCRIPTION}\"\n  tenant_id = \"{TENANT}\"\n  client_id = \"{CLIENT_ID}\"\n  use_oidc = true\n  use_cli = false\n  metadata_host = \"127.0.0.1:{}\"\n{extra}  features {{}}\n}}\nresource \"azurerm_resource_group\" \"main\" {{\n  name = \"oidc-rg\"\n  location = \"eastus\"\n}}\n",
        fake.port
    )
}

fn assertions(fake: &Fake) -> Vec<String> {
    let state = fake.admin("GET", "/_fake/state", None);
    state["client_assertions"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|x| {
                    x.as_str()
                        .map(str::to_owned)
                        .unwrap_or_else(|| x["assertion"].as_str().unwrap_or_default().to_owned())
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn an_oidc_token_file_is_exchanged_for_an_azure_token() {
    let fake = Fake::start(0.0);
    let stack = fake.stack();
    let token = stack.path().join("oidc.jwt");
    std::fs::write(&token, "eyJ.federated-token-from-a-file.sig\n").expect("token file");
    stack.write_raw(&oidc_block(
        &fake,
        &format!("  oidc_token_file_path = \"{}\"\n", token.display()),
    ));
    stack.apply();
    assert!(
        assertions(&fake)
            .iter()
            .any(|a| a == "eyJ.federated-token-from-a-file.sig"),
        "{:?}",
        assertions(&fake)
    );
    assert_eq!(
        fake.python("print(exists(lambda: resource.resource_groups.get('oidc-rg')))"),
        "True"
    );
}

#[test]
fn github_actions_oidc_asks_the_token_service_for_azures_audience() {
    let fake = Fake::start(0.0);
    // GitHub Actions' token service: answers {"value": ...} to the right bearer and
    // audience only.
    let mut service = Command::new(python())
        .args(["-c", r#"
import http.server, json, sys, urllib.parse
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        q = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
        ok = self.headers.get("Authorization") == "Bearer gh-request-token" and q.get("audience") == ["api://AzureADTokenExchange"]
        body = json.dumps({"value": "eyJ.github-actions-oidc.sig"} if ok else {"message": "bad"}).encode()
        self.send_response(200 if ok else 403)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
"#])
        .stdout(Stdio::piped())
        .spawn()
        .expect("token service");
    let mut line = String::new();
    BufReader::new(service.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("port");
    let url = format!("http://127.0.0.1:{}/token?api-version=2.0", line.trim());
    let stack = fake.stack();
    stack.write_raw(&oidc_block(&fake, ""));
    let run = stack.gantry_env(
        &["apply", "--auto-approve"],
        &[
            ("ACTIONS_ID_TOKEN_REQUEST_URL", url.as_str()),
            ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "gh-request-token"),
        ],
    );
    let _ = service.kill();
    let _ = service.wait();
    assert_eq!(run.code, 0, "{}", run.both());
    assert!(
        assertions(&fake)
            .iter()
            .any(|a| a == "eyJ.github-actions-oidc.sig"),
        "{:?}",
        assertions(&fake)
    );
    assert!(
        !run.both().contains("gh-request-token"),
        "the request token was printed"
    );
}

#[test]
fn no_credentials_is_an_error_naming_every_source_tried() {
    let fake = Fake::start(0.0);
    let stack = fake.stack();
    stack.write_raw(&format!(
        "provider \"azurerm\" {{\n  subscription_id = \"{SUBSCRIPTION}\"\n  use_cli = false\n  metadata_host = \"127.0.0.1:{}\"\n  features {{}}\n}}\nresource \"azurerm_resource_group\" \"main\" {{\n  name = \"x-rg\"\n  location = \"eastus\"\n}}\n",
        fake.port
    ));
    let run = stack.gantry(&["plan"]);
    assert_ne!(run.code, 0);
    let text = run.both();
    for source in ["client secret", "OIDC", "managed identity", "Azure CLI"] {
        assert!(text.contains(source), "{source} not named: {text}");
    }
}

/// `use_msi = true` where the platform's managed identity endpoint is App Service's: the
/// token comes from it (asked with the IDENTITY_HEADER secret, which is never printed),
/// and ARM takes it.
#[test]
fn a_managed_identity_gets_the_token_from_the_platform_endpoint() {
    let fake = Fake::start(0.0);
    let stack = fake.stack();
    stack.write_raw(&format!(
        "provider \"azurerm\" {{\n  subscription_id = \"{SUBSCRIPTION}\"\n  use_msi = true\n  use_cli = false\n  metadata_host = \"127.0.0.1:{}\"\n  features {{}}\n}}\nresource \"azurerm_resource_group\" \"main\" {{\n  name = \"msi-rg\"\n  location = \"eastus\"\n}}\n",
        fake.port
    ));
    let endpoint = format!("{}/msi/token", fake.base());
    let run = stack.gantry_env(
        &["apply", "--auto-approve"],
        &[
            ("IDENTITY_ENDPOINT", endpoint.as_str()),
            ("IDENTITY_HEADER", MSI_SECRET),
        ],
    );
    assert_eq!(run.code, 0, "{}", run.both());
    assert!(!run.both().contains(MSI_SECRET), "the secret was printed");
    let state = fake.admin("GET", "/_fake/state", None);
    let vias: Vec<&str> = state["tokens"]
        .as_array()
        .map(|t| t.iter().filter_map(|x| x["via"].as_str()).collect())
        .unwrap_or_default();
    assert!(vias.contains(&"managed_identity"), "{vias:?}");
    assert!(!vias.contains(&"client_secret"), "{vias:?}");
    assert_eq!(
        fake.python("print(exists(lambda: resource.resource_groups.get('msi-rg')))"),
        "True"
    );

    // A wrong secret: the endpoint refuses, gantry says the managed identity failed, and
    // nothing is made.
    let other = fake.stack();
    other.write_raw(&std::fs::read_to_string(stack.path().join("main.hcl")).expect("stack"));
    let refused = other.gantry_env(
        &["apply", "--auto-approve"],
        &[
            ("IDENTITY_ENDPOINT", endpoint.as_str()),
            ("IDENTITY_HEADER", "not-the-secret"),
        ],
    );
    assert_ne!(refused.code, 0, "{}", refused.both());
    assert!(
        refused.both().to_lowercase().contains("managed identity"),
        "{}",
        refused.both()
    );
    assert!(
        !refused.both().contains("not-the-secret"),
        "the secret was printed"
    );
}

/// A stand-in for the Azure CLI, logged in as the fake's service principal: it answers
/// `az account get-access-token -o json --scope S [--tenant T]` with the CLI's JSON
/// (`accessToken`, `expiresOn`, `expires_on`, `subscription`, `tenant`, `tokenType`), the
/// token from the fake's Entra endpoint, and logs each call's arguments.
fn stand_in_az(fake: &Fake, dir: &std::path::Path) -> std::path::PathBuf {
    let log = dir.join("az-calls.log");
    let script = format!(
        r#"#!{python}
import datetime, json, ssl, sys, time, urllib.parse, urllib.request
args = sys.argv[1:]
with open({log:?}, "a") as f:
    f.write(json.dumps(args) + "\n")
if args[:2] != ["account", "get-access-token"] or "--scope" not in args:
    print("ERROR: this stand-in az only answers `account get-access-token --scope`", file=sys.stderr)
    sys.exit(2)
scope = args[args.index("--scope") + 1]
form = urllib.parse.urlencode({{"grant_type": "client_credentials", "client_id": {CLIENT_ID:?},
    "client_secret": {CLIENT_SECRET:?}, "scope": scope}}).encode()
ctx = ssl.create_default_context(cafile={ca:?})
got = json.loads(urllib.request.urlopen(urllib.request.Request({base:?} + "/{TENANT}/oauth2/v2.0/token", data=form), context=ctx).read())
expires = int(time.time()) + int(got["expires_in"])
print(json.dumps({{"accessToken": got["access_token"],
    "expiresOn": datetime.datetime.fromtimestamp(expires).strftime("%Y-%m-%d %H:%M:%S.%f"),
    "expires_on": expires, "subscription": {SUBSCRIPTION:?}, "tenant": {TENANT:?}, "tokenType": "Bearer"}}))
"#,
        python = python().display(),
        log = log.display().to_string(),
        ca = fake.ca().display().to_string(),
        base = fake.base(),
    );
    let az = dir.join("az");
    std::fs::write(&az, script).expect("write az");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&az, std::fs::Permissions::from_mode(0o755)).expect("chmod az");
    log
}

/// No secret, OIDC or managed identity configured: the provider falls back to the Azure
/// CLI's login (azurerm's `use_cli`, on by default), asking it for Resource Manager's
/// scope; with `use_cli = false` the same stack names every source it tried instead.
#[test]
fn the_azure_cli_login_is_used_when_nothing_else_is_configured() {
    let fake = Fake::start(0.0);
    let bin = tempfile::tempdir().expect("temp dir");
    let log = stand_in_az(&fake, bin.path());
    let path = format!(
        "{}:{}",
        bin.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let stack = fake.stack();
    let body = format!(
        "provider \"azurerm\" {{\n  subscription_id = \"{SUBSCRIPTION}\"\n  tenant_id = \"{TENANT}\"\n  metadata_host = \"127.0.0.1:{}\"\n  features {{}}\n}}\nresource \"azurerm_resource_group\" \"main\" {{\n  name = \"cli-rg\"\n  location = \"eastus\"\n}}\n",
        fake.port
    );
    stack.write_raw(&body);
    let run = stack.gantry_env(&["apply", "--auto-approve"], &[("PATH", path.as_str())]);
    assert_eq!(run.code, 0, "{}", run.both());
    let calls = std::fs::read_to_string(&log).expect("az was never run");
    assert!(
        calls.contains("\"get-access-token\"")
            && calls.contains("\"--scope\", \"https://management."),
        "{calls}"
    );
    assert_eq!(
        fake.python("print(exists(lambda: resource.resource_groups.get('cli-rg')))"),
        "True"
    );

    stack.write_raw(&body.replace("  features {}", "  use_cli = false\n  features {}"));
    let refused = stack.gantry_env(&["plan"], &[("PATH", path.as_str())]);
    assert_ne!(refused.code, 0, "{}", refused.both());
    assert!(
        refused.both().contains("disabled by use_cli = false"),
        "{}",
        refused.both()
    );
}
