//! Signing in to the server `connect` names through the site's identity provider, before
//! the window opens: asked for with `--sign-on`, or by itself where no token is given and
//! the server wants a login and offers sign-on. The address to sign in at is printed and
//! opened in the system's browser (`$BROWSER` when set, else the desktop's opener); the
//! login the browser brings back goes with the connection as the login cookie. The work
//! is [`hounsfield_client::sign_in`]'s.

use std::process::{Command, Stdio};

use anyhow::Context;
use hounsfield_client::sign_in::{self, SignedIn};
use hounsfield_tls::ServerTrust;
use url::Url;

use crate::launch::ConnectArgs;
use crate::settings::Settings;
use crate::thin_client::connection::{link_parameter, trust_for, websocket_url};

/// `args` with the login of a sign-in where one is asked for or needed; as they are
/// otherwise.
pub fn before_connecting(mut args: ConnectArgs) -> anyhow::Result<ConnectArgs> {
    let has_token = args.token.is_some() || link_parameter(&args.url, "token").is_some();
    if has_token || args.login.is_some() {
        return Ok(args);
    }
    let websocket = websocket_url(&args.url).map_err(anyhow::Error::msg)?;
    let trust = trust(&args, &websocket)?;
    if let Some(SignedIn { login, .. }) = through_provider(&websocket, &trust, args.sign_on)? {
        args.login = Some(login);
    }
    Ok(args)
}

/// Signs in to the server of `websocket` through the site's identity provider, in the
/// system's browser: when `asked`, or by itself where the server wants a login and offers
/// sign-on (`None` where it does not, or cannot be asked: the connection reports that).
/// Blocks until the browser comes back, at most [`sign_in::SIGN_IN_WAIT`].
pub fn through_provider(
    websocket: &str,
    trust: &ServerTrust,
    asked: bool,
) -> anyhow::Result<Option<SignedIn>> {
    let server = page_address(websocket)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("no runtime for the sign-in")?;
    if !asked
        && !runtime
            .block_on(sign_in::offered(&server, trust))
            .unwrap_or(false)
    {
        return Ok(None);
    }
    let signed = runtime
        .block_on(sign_in::sign_in(&server, trust, open_in_browser))
        .with_context(|| format!("signing in to {server}"))?;
    eprintln!("signed in to {server} as {} ({})", signed.user, signed.role);
    Ok(Some(signed))
}

/// The server's page address (`http(s)://host:port/prefix/`) of its WebSocket address.
fn page_address(websocket: &str) -> anyhow::Result<Url> {
    let mut url = Url::parse(websocket).with_context(|| format!("server URL {websocket:?}"))?;
    let scheme = if url.scheme() == "wss" {
        "https"
    } else {
        "http"
    };
    url.set_scheme(scheme)
        .map_err(|()| anyhow::anyhow!("server URL {websocket:?} has no page address"))?;
    url.set_query(None);
    let page = url.path().trim_end_matches("ws").to_string();
    url.set_path(&page);
    Ok(url)
}

/// What the sign-in's requests trust: as the connection will (the CA files, the
/// fingerprint given or trusted before for this server).
fn trust(args: &ConnectArgs, websocket: &str) -> anyhow::Result<ServerTrust> {
    let given = args.given_fingerprint().map_err(anyhow::Error::msg)?;
    let settings = Settings::default_path().map(|path| Settings::load(&path).0);
    Ok(trust_for(websocket, &args.url, args.ca.clone(), |server| {
        given.or_else(|| {
            settings
                .as_ref()
                .and_then(|settings| settings.trusted_certificate(server))
        })
    }))
}

/// Says where to sign in and opens it in the system's browser: `$BROWSER` (a command,
/// given the address), else the desktop's opener. Where neither opens it, the printed
/// address is there to copy.
fn open_in_browser(address: &Url) {
    eprintln!("sign in in your browser: {address}");
    let opened = match std::env::var("BROWSER") {
        Ok(browser) if !browser.trim().is_empty() => Command::new(browser.trim())
            .arg(address.as_str())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .map(drop),
        _ => open::that_detached(address.as_str()),
    };
    if let Err(error) = opened {
        eprintln!("(no browser opened: {error}; open the address above)");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_address_keeps_a_proxys_prefix() {
        let page = |ws: &str| page_address(ws).expect("an address").to_string();
        assert_eq!(page("ws://127.0.0.1:8080/ws"), "http://127.0.0.1:8080/");
        assert_eq!(
            page("wss://pacs.example/hounsfield/ws?token=x"),
            "https://pacs.example/hounsfield/"
        );
    }
}
