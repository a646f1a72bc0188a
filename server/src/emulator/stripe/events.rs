//! Making the events Stripe sends as webhooks: each carries its object as it is at that
//! moment, in the JSON of [`super::objects`], and is kept in the [`World`], waiting in its
//! outbox until [`World::take_outbox`]. Kept apart from the world so that the plain records
//! do not depend on their JSON shapes.

use serde_json::Value;

use super::{
    objects,
    world::{EventRecord, World, new_id},
};

/// Makes an event of `kind` carrying `object`, created at `created`.
pub fn emit(world: &mut World, kind: &str, object: Value, created: i64) {
    let id = new_id("evt");
    let payload = objects::event(&id, kind, created, object).to_string();
    world.record_event(EventRecord { id, kind: kind.to_owned(), payload });
}

/// Makes an event carrying subscription `id`; none when there is no such subscription.
pub fn subscription(world: &mut World, kind: &str, id: &str, at: i64) {
    if let Some(object) = world.subscription(id).map(|subscription| objects::subscription(subscription, &world.price)) {
        emit(world, kind, object, at);
    }
}

/// Makes an event carrying invoice `id`; none when there is no such invoice.
pub fn invoice(world: &mut World, kind: &str, id: &str, at: i64) {
    if let Some(object) = world.invoice(id).map(|invoice| objects::invoice(invoice, &world.price)) {
        emit(world, kind, object, at);
    }
}

/// Makes an event carrying checkout session `id`; none when there is no such session.
pub fn checkout(world: &mut World, kind: &str, id: &str, at: i64) {
    if let Some(object) = world.checkout(id).map(|checkout| objects::checkout(checkout, at)) {
        emit(world, kind, object, at);
    }
}
