//! A token as it arrived, before anyone trusts it: the compact JWS split and decoded
//! ([`jws`]), its claims read in place from the payload text ([`claims`]), a claim found
//! by name or JSON Pointer ([`path`]), and the time its claims are judged at ([`time`]).

pub(crate) mod claims;
pub(crate) mod jws;
pub(crate) mod path;
pub(crate) mod time;

pub(crate) use claims::{Claim, Claims, Kind};
pub(crate) use jws::{Header, Jws, parse};
pub(crate) use path::claim;
pub(crate) use time::{UnixTime, ago, now};
