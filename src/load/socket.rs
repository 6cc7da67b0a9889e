//! The load generator's WebSocket client: tokio-tungstenite, or with
//! `--compression` a small client of its own that offers permessage-deflate
//! (RFC 7692) the way a browser does and inflates with the server's own
//! codec (`wire::deflate::inflate_trusted`: it trusts its server).
//! tokio-tungstenite 0.24 cannot negotiate the extension (its newer releases
//! changed the message types every test here uses), and a load client needs
//! little: send a few text frames, read text frames, answer pings, close.
//!
//! Both count what a subscriber pays for: the payload bytes of each message
//! as they came over the wire (compressed when they were).

use bytes::{Buf, BytesMut};
use futures_util::{SinkExt, StreamExt};
use rand::Rng;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

use crate::wire::deflate;

type Tungstenite = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>;

/// The offer sent with `--compression`: what browsers send.
pub const OFFER: &str = "permessage-deflate; client_max_window_bits";

/// How much a read asks the socket for at least.
const READ_SIZE: usize = 16 << 10;

/// The largest message the client accepts (a 200-row snapshot is 55 KB).
const MAX_MESSAGE: usize = 16 << 20;

/// A subscriber's socket.
pub enum Socket {
    Plain(Box<Tungstenite>),
    Deflate(RawSocket),
}

/// A text message and its payload bytes on the wire.
pub struct Text {
    pub text: String,
    pub wire: usize,
}

impl Socket {
    /// Opens `url` (`ws://` or `wss://`); with `compression`, offers
    /// permessage-deflate (`ws://` only).
    pub async fn connect(url: &str, compression: bool) -> Result<Self, String> {
        if compression {
            return RawSocket::connect(url).await.map(Socket::Deflate);
        }
        let (ws, _) = tokio_tungstenite::connect_async(url).await.map_err(|e| e.to_string())?;
        Ok(Socket::Plain(Box::new(ws)))
    }

    /// Whether the server agreed to compress.
    pub fn compressed(&self) -> bool {
        matches!(self, Socket::Deflate(raw) if raw.deflate)
    }

    pub async fn send_text(&mut self, text: String) -> Result<(), String> {
        match self {
            Socket::Plain(ws) => ws.send(Message::Text(text)).await.map_err(|e| e.to_string()),
            Socket::Deflate(raw) => raw.send(0x1, text.as_bytes()).await,
        }
    }

    /// The next text message; `None` once the socket closed or failed.
    /// Cancel-safe: a message half read stays buffered for the next call.
    pub async fn next_text(&mut self) -> Option<Text> {
        match self {
            Socket::Plain(ws) => loop {
                match ws.next().await? {
                    Ok(Message::Text(text)) => return Some(Text { wire: text.len(), text }),
                    Ok(Message::Close(_)) | Err(_) => return None,
                    Ok(_) => {}
                }
            },
            Socket::Deflate(raw) => raw.next_text().await,
        }
    }

    pub async fn close(&mut self) {
        match self {
            Socket::Plain(ws) => {
                let _ = ws.as_mut().close(None).await;
            }
            Socket::Deflate(raw) => {
                let _ = raw.send(0x8, &1000u16.to_be_bytes()).await;
            }
        }
    }
}

/// A WebSocket client over plain TCP that offered permessage-deflate.
pub struct RawSocket {
    stream: TcpStream,
    /// Read and not yet parsed.
    buf: BytesMut,
    /// The server agreed to the extension.
    deflate: bool,
    /// A fragmented message so far: its first frame's RSV1 and its payload.
    partial: Option<(bool, Vec<u8>)>,
}

impl RawSocket {
    async fn connect(url: &str) -> Result<Self, String> {
        let rest = url.strip_prefix("ws://").ok_or("--compression needs http:// URLs")?;
        let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let path = if path.is_empty() { "/" } else { path };
        let mut stream = TcpStream::connect(host).await.map_err(|e| e.to_string())?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        let key: [u8; 16] = rand::thread_rng().gen();
        let head = format!(
            "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: {}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: {OFFER}\r\n\r\n",
            base64(&key)
        );
        stream.write_all(head.as_bytes()).await.map_err(|e| e.to_string())?;
        let mut buf = BytesMut::with_capacity(4096);
        let end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            if buf.len() > 16 << 10 || stream.read_buf(&mut buf).await.map_err(|e| e.to_string())? == 0 {
                return Err("the server closed during the handshake".into());
            }
        };
        let answer = String::from_utf8_lossy(&buf[..end]).into_owned();
        buf.advance(end);
        if !answer.starts_with("HTTP/1.1 101") {
            return Err(format!("handshake refused: {}", answer.lines().next().unwrap_or_default()));
        }
        let deflate = answer.lines().any(|line| {
            line.split_once(':').is_some_and(|(name, value)| {
                name.trim().eq_ignore_ascii_case("sec-websocket-extensions") && value.contains("permessage-deflate")
            })
        });
        Ok(Self { stream, buf, deflate, partial: None })
    }

    /// Sends one masked frame.
    async fn send(&mut self, opcode: u8, payload: &[u8]) -> Result<(), String> {
        let frame = masked_frame(0x80 | opcode, payload, rand::thread_rng().gen());
        self.stream.write_all(&frame).await.map_err(|e| e.to_string())
    }

    /// One whole frame off `buf`: FIN, RSV1, opcode, payload.
    fn parse(&mut self) -> Result<Option<(bool, bool, u8, BytesMut)>, String> {
        let b = &self.buf[..];
        if b.len() < 2 {
            return Ok(None);
        }
        if b[1] & 0x80 != 0 {
            return Err("a masked server frame".into());
        }
        let (len, head) = match b[1] & 0x7F {
            126 if b.len() >= 4 => (u64::from(u16::from_be_bytes([b[2], b[3]])), 4),
            127 if b.len() >= 10 => (u64::from_be_bytes(b[2..10].try_into().unwrap_or_default()), 10),
            126 | 127 => return Ok(None),
            short => (u64::from(short), 2),
        };
        if len > MAX_MESSAGE as u64 {
            return Err("a frame over the client's limit".into());
        }
        if b.len() < head + len as usize {
            return Ok(None);
        }
        let (fin, rsv1, opcode) = (b[0] & 0x80 != 0, b[0] & 0x40 != 0, b[0] & 0x0F);
        self.buf.advance(head);
        Ok(Some((fin, rsv1, opcode, self.buf.split_to(len as usize))))
    }

    async fn next_text(&mut self) -> Option<Text> {
        loop {
            let Some((fin, rsv1, opcode, payload)) = self.parse().ok()? else {
                // Room for a whole read: what was parsed off is reclaimed
                // (a full BytesMut would otherwise be read into 64 bytes at a time).
                self.buf.reserve(READ_SIZE);
                if self.stream.read_buf(&mut self.buf).await.ok()? == 0 {
                    return None;
                }
                continue;
            };
            let message = match (opcode, self.partial.take()) {
                (0x9, partial) => {
                    self.partial = partial;
                    self.send(0xA, &payload).await.ok()?;
                    continue;
                }
                (0x8, _) => return None,
                (0x1 | 0x2, None) => (rsv1, payload.to_vec()),
                (0x0, Some((rsv1, mut joined))) => {
                    joined.extend_from_slice(&payload);
                    (rsv1, joined)
                }
                (_, partial) => {
                    self.partial = partial;
                    continue;
                }
            };
            if !fin {
                self.partial = Some(message);
                continue;
            }
            if opcode == 0x2 {
                continue;
            }
            let (compressed, payload) = message;
            let wire = payload.len();
            let bytes =
                if compressed && self.deflate { deflate::inflate_trusted(payload, MAX_MESSAGE).ok()? } else { payload };
            return Some(Text { text: String::from_utf8(bytes).ok()?, wire });
        }
    }
}

/// A client frame: first byte `first` (FIN, RSV1, opcode), the payload
/// masked with `mask` (RFC 6455 §5.3).
pub fn masked_frame(first: u8, payload: &[u8], mask: [u8; 4]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(payload.len() + 14);
    frame.push(first);
    match payload.len() {
        short @ 0..=125 => frame.push(0x80 | short as u8),
        medium @ 126..=0xFFFF => {
            frame.push(0x80 | 126);
            frame.extend_from_slice(&(medium as u16).to_be_bytes());
        }
        long => {
            frame.push(0x80 | 127);
            frame.extend_from_slice(&(long as u64).to_be_bytes());
        }
    }
    frame.extend_from_slice(&mask);
    frame.extend(payload.iter().zip(mask.iter().cycle()).map(|(b, m)| b ^ m));
    frame
}

/// Standard base64 with padding (the handshake's key).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            out.push(if i <= chunk.len() { ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char } else { '=' });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_pads() {
        assert_eq!(super::base64(b"the sample nonce"), "dGhlIHNhbXBsZSBub25jZQ==");
        assert_eq!(super::base64(b"ab"), "YWI=");
        assert_eq!(super::base64(b"abc"), "YWJj");
    }
}
