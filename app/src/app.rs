//! The HTML shell and the routes of the dashboard.

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::{
    Lazy, LazyRoute, SsrMode,
    components::{Route, Router, Routes},
    lazy_route, path,
};

use crate::{
    components::{NotFoundPage, SiteHeader},
    features::{
        admin::ui::{AdminPage, DataPage, MembersPage, SchedulePage, SharingPage},
        auth::ui::LoginPage,
        billing::ui::BillingPage,
        home::ui::HomePage,
        insights::ui::InsightsPage,
        me::ui::MePage,
        packs::ui::PacksPage,
        people::ui::{PeoplePage, ProfilePage},
        questions::ui::{QuestionPage, QuestionsPage},
        search::ui::SearchPage,
    },
};

/// The document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The dashboard. Data pages render after their data is loaded (`SsrMode::Async`) so that a
/// missing record answers with a real 404 status, not a 200 that says "not found".
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Set once the browser has taken over the page; browser tests wait for it.
    let hydrated = RwSignal::new(false);
    Effect::new(move || hydrated.set(true));
    view! {
        <Stylesheet id="leptos" href="/pkg/rapport.css"/>
        <Title formatter=|title: String| format!("{title} · Rapport")/>
        <div class="app" data-hydrated=move || hydrated.get().to_string()>
            <Router>
                <SiteHeader/>
                <main class="page">
                    <Routes fallback=|| view! { <NotFoundPage/> }>
                        <Route path=path!("/") view={Lazy::<HomeRoute>::new()}/>
                        <Route path=path!("/login") view={Lazy::<LoginRoute>::new()}/>
                        <Route path=path!("/me") view={Lazy::<MeRoute>::new()} ssr=SsrMode::Async/>
                        <Route path=path!("/admin") view={Lazy::<AdminHomeRoute>::new()} ssr=SsrMode::Async/>
                        <Route path=path!("/admin/sharing") view={Lazy::<SharingRoute>::new()} ssr=SsrMode::Async/>
                        <Route path=path!("/admin/schedule") view={Lazy::<ScheduleRoute>::new()} ssr=SsrMode::Async/>
                        <Route path=path!("/admin/members") view={Lazy::<MembersRoute>::new()} ssr=SsrMode::Async/>
                        <Route path=path!("/admin/packs") view={Lazy::<PacksRoute>::new()} ssr=SsrMode::Async/>
                        <Route path=path!("/admin/data") view={Lazy::<DataRoute>::new()} ssr=SsrMode::Async/>
                        <Route path=path!("/admin/billing") view={Lazy::<BillingRoute>::new()} ssr=SsrMode::Async/>
                        <Route path=path!("/admin/insights") view={Lazy::<InsightsRoute>::new()} ssr=SsrMode::Async/>
                        <Route path=path!("/people") view={Lazy::<PeopleRoute>::new()} ssr=SsrMode::Async/>
                        <Route path=path!("/people/:id") view={Lazy::<ProfileRoute>::new()} ssr=SsrMode::Async/>
                        <Route path=path!("/questions") view={Lazy::<QuestionsRoute>::new()} ssr=SsrMode::Async/>
                        <Route path=path!("/questions/:id") view={Lazy::<QuestionRoute>::new()} ssr=SsrMode::Async/>
                        <Route path=path!("/search") view={Lazy::<SearchRoute>::new()} ssr=SsrMode::Async/>
                    </Routes>
                </main>
            </Router>
        </div>
    }
}

/// Makes a page a lazy route: with `cargo leptos --split` its code ships in a wasm chunk of
/// its own, fetched when someone opens the page, so what every page downloads holds only the
/// app's frame (the header, the router) and no page's code but its own. The page
/// loads its own data, so `data` holds nothing. The page takes over after the rest of the
/// app, once its chunk has arrived, so it says when it has ([`LazyPageHydrated`]).
macro_rules! lazy_page {
    ($route:ident => $page:ident) => {
        struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            fn view(_this: Self) -> AnyView {
                view! {
                    <$page/>
                    <LazyPageHydrated/>
                }
                .into_any()
            }
        }
    };
}

/// A hidden mark whose `data-hydrated` turns `true` once a lazy page has taken over: until
/// then its forms are plain HTML forms. Browser tests wait for it as for the app's own
/// `data-hydrated`.
#[component]
fn LazyPageHydrated() -> impl IntoView {
    let hydrated = RwSignal::new(false);
    Effect::new(move || hydrated.set(true));
    view! { <span class="lazy-page" hidden data-hydrated=move || hydrated.get().to_string()></span> }
}

lazy_page!(HomeRoute => HomePage);
lazy_page!(LoginRoute => LoginPage);
lazy_page!(AdminHomeRoute => AdminPage);
lazy_page!(SharingRoute => SharingPage);
lazy_page!(ScheduleRoute => SchedulePage);
lazy_page!(MembersRoute => MembersPage);
lazy_page!(PacksRoute => PacksPage);
lazy_page!(DataRoute => DataPage);
lazy_page!(BillingRoute => BillingPage);
lazy_page!(InsightsRoute => InsightsPage);
lazy_page!(MeRoute => MePage);
lazy_page!(PeopleRoute => PeoplePage);
lazy_page!(ProfileRoute => ProfilePage);
lazy_page!(QuestionsRoute => QuestionsPage);
lazy_page!(QuestionRoute => QuestionPage);
lazy_page!(SearchRoute => SearchPage);
