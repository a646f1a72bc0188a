//! The browser half of Rapport: takes over the server-rendered page (hydration).

use wasm_bindgen::prelude::wasm_bindgen;

/// Called by the generated JS loader once the wasm module is ready.
#[wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // The async form: the admin pages are lazy routes, whose code may still be on its way.
    leptos::mount::hydrate_lazy(app::App);
}
