//! The real `guidance` binary at the edge of a real site.
//!
//! - `behind`: behind nginx and Caddy from Debian's packages, terminating TLS with a test CA and
//!   configured by the very files in `deploy/`: each visitor (a loopback address of its own) has
//!   its own booking budget, no visitor can pick its address with `X-Forwarded-For` or
//!   `Forwarded` (through the proxy or straight to Guidance), the owner signs in while another
//!   address is locked out, and https answers carry HSTS and a `__Host-` session cookie.
//! - `edge`: straight to Guidance: slow clients are cut off by the header and request time-outs
//!   while visitors keep booking, newcomers wait at the connection cap, an IPv6 visitor counts by its /64, a plain-http site sends
//!   neither HSTS nor a `__Host-` cookie, the files it writes are its user's alone, and a wrong
//!   `GUIDANCE_TRUSTED_PROXIES` stops the start.
//! - `unit`: the systemd unit in `deploy/`, read by `systemd-analyze`: valid, and sandboxed.

mod behind;
mod edge;
mod proxies;
mod site;
mod unit;
