//! Twilio's REST API, for what a media stream cannot do itself: handing a
//! live call to a staff number (`<Dial>`). Hanging up needs no REST call:
//! closing the stream ends a call whose TwiML has nothing after `<Connect>`.

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

    /// Redirects the call to `<Dial>number</Dial>`.
    pub async fn transfer(&self, call_sid: &str, number: &str) -> anyhow::Result<()> {
        let url = format!(
            "{}/2010-04-01/Accounts/{}/Calls/{}.json",
            self.api_base, self.account_sid, call_sid
        );
        let response = self
            .client
            .post(&url)
            .basic_auth(&self.account_sid, Some(&self.auth_token))
            .form(&[("Twiml", super::twiml::dial_twiml(number))])
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
