//! The price form's write: prices.toml gains the model's price, the table is
//! reloaded, and this conversation's unpriced answers of that model are priced.

use crate::chat::machine::Effect;
use crate::tui::app::App;
use crate::tui::core::state::Level;

impl App {
    pub(in crate::tui) fn save_price(&mut self, model: &str, rates: (f64, Option<f64>, f64)) {
        let file = self.ctx.paths.prices_file();
        if let Err(e) = crate::usage::price_form::add_price(&file, model, rates) {
            return self.state.toast(Level::Error, e);
        }
        // The whole console's table, not only this conversation's: a Library test
        // run or a compare target priced from now on uses it too.
        let prices = match self.ctx.reload_prices() {
            Ok(prices) => prices,
            Err(e) => return self.state.toast(Level::Error, e),
        };
        self.state.machine.set_prices(prices);
        let n = self.state.machine.reprice(model);
        self.effects(vec![Effect::Save]);
        self.state.toast(
            Level::Info,
            format!(
                "{model} priced in {} ({n} answers here); `llmdeck pricing reprice --model {model}` prices the ledger's past rows",
                file.display()
            ),
        );
    }
}
