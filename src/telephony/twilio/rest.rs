//! Twilio's REST API, for what a media stream cannot do itself: handing a
//! live call to a staff number (`<Dial>`). Hanging up needs no REST call:
//! closing the stream runs what follows `<Connect>` (a goodbye and
//! `<Hangup/>`).

use anyhow::Context;

#[derive(Clone, Debug)]
pub struct TwilioRest {
    client: reqwest::Client,
    /// `https://api.twilio.com` in production; a local server in tests.
    api_base: String,
    account_sid: String,
    auth_token: String,
}

impl TwilioRest {
    pub fn new(api_base: String, account_sid: String, auth_token: String) -> TwilioRest {
        TwilioRest {
            client: reqwest::Client::new(),
            api_base,
            account_sid,
            auth_token,
        }
    }

    /// Replaces the live call's TwiML (`Twiml=`): Twilio stops the media
    /// stream and runs it. An error when Twilio cannot be reached or does
    /// not accept it; the call is then still on the stream.
    pub async fn redirect(&self, call_sid: &str, twiml: &str) -> anyhow::Result<()> {
        let url = format!(
            "{}/2010-04-01/Accounts/{}/Calls/{}.json",
            self.api_base.trim_end_matches('/'),
            self.account_sid,
            call_sid
        );
        let response = self
            .client
            .post(&url)
            .basic_auth(&self.account_sid, Some(&self.auth_token))
            .form(&[("Twiml", twiml)])
            .timeout(std::time::Duration::from_secs(10))
            .send()
            .await
            .context("calling Twilio's API to transfer the call")?;
        let status = response.status();
        anyhow::ensure!(
            status.is_success(),
            "Twilio refused the transfer: HTTP {status}"
        );
        Ok(())
    }
}
