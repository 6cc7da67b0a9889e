//! Consistency checks on request: a subscriber sends `digest` with the seq
//! its state is at and gets the store's digest at that seq
//! (`StoreState::digest_at`), and, when that is the live seq, the digest of
//! its page as the store would send it now. Pending events are flushed
//! first, so the answer follows every frame up to the live seq.
//!
//! Guarded by `tests/ws_digest.rs`.

use actix::prelude::*;

use super::actor::StoreActor;
use super::messages::GetDigest;
use crate::wire::protocol::{ServerFrame, Topic};

impl Handler<GetDigest> for StoreActor {
    type Result = ();

    fn handle(&mut self, msg: GetDigest, _: &mut Context<Self>) {
        self.flush();
        let (Some(state), Some(sub)) = (self.state.as_ref(), self.fanout.get(msg.session)) else {
            return;
        };
        let slug = &state.meta.info.slug;
        let live = msg.seq == state.seq;
        let page = (live && sub.topics.has(Topic::Products)).then(|| state.page(&sub.view).digest);
        let digest = if live { Some(state.digest()) } else { state.digest_at(msg.seq) };
        let frame = ServerFrame::Digest { reference: msg.reference.as_ref(), store: slug, seq: msg.seq, digest, page };
        sub.outbox.push(frame.encode(), slug);
    }
}
