//! The price form's write: prices.toml gains the model's price, the table is
//! reloaded, and this conversation's unpriced answers of that model are priced.

use std::sync::Arc;

use crate::chat::machine::Effect;
use crate::tui::app::App;
use crate::tui::core::state::Level;
use crate::usage::PriceTable;

impl App {
    pub(in crate::tui) fn save_price(&mut self, model: &str, rates: (f64, Option<f64>, f64)) {
        let paths = &self.ctx.paths;
        let file = paths.prices_file();
        if let Err(e) = crate::usage::price_form::add_price(&file, model, rates) {
            return self.state.toast(Level::Error, e);
        }
        let (prices, errors) = PriceTable::load(&[&paths.imported_prices_file(), &file]);
        if let Some(e) = errors.first() {
            return self.state.toast(Level::Error, e.to_string());
        }
        let prices = prices.with_catalog_file(paths.imported_catalog_file());
        self.state.machine.set_prices(Arc::new(prices));
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
