//! A deadline for reading request bodies. actix-web's
//! `client_request_timeout` covers only the headers: a client that sends a
//! body one byte every few seconds would hold its connection (and the
//! handler waiting on the body) forever. This middleware wraps every
//! request body in a stream that fails with `TimedOut` once
//! `--body-timeout-secs` have passed since the headers arrived; the JSON
//! extractor and `http::read_body` (raw bodies, imports, multipart uploads)
//! turn that into `408 request_timeout`.
//!
//! A body the handler did not read to its end (timed out, refused early,
//! or ignored) is kept alive until the response has been written: actix
//! then closes the connection after the answer. Were it dropped with the
//! handler, actix would go on draining a chunked body after the answer,
//! however slowly it came and without any deadline.
//!
//! WebSocket upgrades (`GET` with `Connection: upgrade`) are left alone:
//! their body is the socket. Guarded by `tests/body_deadline.rs`.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::web::{self, Bytes};
use actix_web::HttpMessage;
use futures_util::Stream;
use tokio::time::Sleep;

use crate::app::AppState;

/// Whether a body read failed because its deadline passed.
pub fn is_deadline(err: &PayloadError) -> bool {
    matches!(err, PayloadError::Io(e) if e.kind() == io::ErrorKind::TimedOut)
}

/// How far a request body has been read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Progress {
    Reading,
    Finished,
    TimedOut,
}

/// The request body, read under a deadline. The payload itself is shared
/// with the middleware, which keeps it alive past the handler.
struct DeadlineBody {
    payload: Rc<RefCell<Payload>>,
    deadline: Pin<Box<Sleep>>,
    progress: Rc<Cell<Progress>>,
}

impl Stream for DeadlineBody {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match self.progress.get() {
            Progress::Finished | Progress::TimedOut => return Poll::Ready(None),
            Progress::Reading => {}
        }
        if self.deadline.as_mut().poll(cx).is_ready() {
            self.progress.set(Progress::TimedOut);
            let err = io::Error::new(io::ErrorKind::TimedOut, "the request body did not arrive in time");
            return Poll::Ready(Some(Err(PayloadError::Io(err))));
        }
        let polled = Pin::new(&mut *self.payload.borrow_mut()).poll_next(cx);
        if let Poll::Ready(None) = polled {
            self.progress.set(Progress::Finished);
        }
        polled
    }
}

/// A response body that holds an unfinished request body until it has
/// been written, so that actix closes the connection instead of draining.
pub struct HoldingBody {
    body: BoxBody,
    _unread: Option<Rc<RefCell<Payload>>>,
}

impl MessageBody for HoldingBody {
    type Error = Box<dyn std::error::Error>;

    fn size(&self) -> BodySize {
        self.body.size()
    }

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Bytes, Self::Error>>> {
        Pin::new(&mut self.body).poll_next(cx)
    }
}

/// The middleware (`middleware::from_fn`).
pub async fn enforce(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<HoldingBody>, actix_web::Error> {
    let timeout = req.app_data::<web::Data<AppState>>().map(|s| s.config.body_timeout());
    let upgrade = req.method() == Method::GET && req.head().upgrade();
    let payload = req.take_payload();
    let (Some(timeout), false, false) = (timeout, upgrade, matches!(payload, Payload::None)) else {
        req.set_payload(payload);
        return Ok(next.call(req).await?.map_body(|_, body| HoldingBody { body: body.boxed(), _unread: None }));
    };
    let payload = Rc::new(RefCell::new(payload));
    let progress = Rc::new(Cell::new(Progress::Reading));
    let body = DeadlineBody {
        payload: payload.clone(),
        deadline: Box::pin(tokio::time::sleep(timeout)),
        progress: progress.clone(),
    };
    req.set_payload(Payload::Stream { payload: Box::pin(body) });
    let res = next.call(req).await?;
    let unread = (progress.get() != Progress::Finished).then_some(payload);
    Ok(res.map_body(|_, body| HoldingBody { body: body.boxed(), _unread: unread }))
}
