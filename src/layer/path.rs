//! Which route a request calls, as the route rules see it: the path the service's router
//! will dispatch on, relative to the API, and the front door it came through (for the log
//! line).
//!
//! | front door | path the rules see | `shape` |
//! |---|---|---|
//! | axum, hyper, any tower server | the URI's path | `http` |
//! | `lambda_http`, API Gateway REST proxy | the URI's path without the `/{stage}` `lambda_http` puts in front | `apigw_rest_proxy` |
//! | `lambda_http`, API Gateway HTTP API proxy | the same (a named stage is in `rawPath`) | `apigw_http_proxy` |
//! | `lambda_http`, Lambda Function URL | the URI's path | `function_url` |
//! | `lambda_http`, Application Load Balancer | the URI's path | `alb` |
//! | `lambda_http`, VPC Lattice | the URI's path | `vpc_lattice` |
//!
//! Always the URI's path, never the event's raw one: `lambda_http` builds the URI with a
//! URL parser that resolves `..` segments (and their percent-encoded forms) and turns `\`
//! into `/`, and the router dispatches on the result; judging the raw path instead would
//! let `/public/%2e%2e/admin` pass the rules of `/public/**` and reach `/admin`. A path
//! that holds a dot segment, a backslash or an encoded `/` or `\` at all is refused
//! ([`suspicious`]): what a router and a rule make of it may differ.
//!
//! The route rules, like the ARN they are matched against in the authorizer, are relative
//! to the stage; `lambda_http` puts the API Gateway stage in front of the URI's path
//! (unless `AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH` is set), so for API Gateway events the
//! layer takes a leading `/{stage}` segment off.

use ::http::Request;

/// The called route of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Route {
    pub(crate) path: String,
    pub(crate) shape: &'static str,
    /// The domain AWS says the request came to (API Gateway, a Function URL), never the
    /// client's `Host` header: what a DPoP proof's `htu` is checked against.
    pub(crate) domain: Option<String>,
}

/// The route `request` calls.
pub(crate) fn route<B>(request: &Request<B>) -> Route {
    #[cfg(feature = "lambda_http")]
    if let Some(route) = lambda::route(request) {
        return route;
    }
    Route {
        path: request.uri().path().to_owned(),
        shape: "http",
        domain: None,
    }
}

/// The path of `request` relative to the API, as the route rules judge it: for a
/// `lambda_http` request from API Gateway, without the stage `lambda_http` put in front
/// of it. What a service behind the layer should route on when it routes by hand.
#[must_use]
pub fn api_path<B>(request: &Request<B>) -> String {
    route(request).path
}

/// Why a path cannot be judged, if it cannot: a `.` or `..` segment (plain or
/// percent-encoded, in any case), a backslash, or a percent-encoded `/` or `\`.
pub(crate) fn suspicious(path: &str) -> Option<&'static str> {
    // Every case below needs a `.`, a `%` or a `\`: most paths have none and cost nothing.
    if !path.bytes().any(|b| matches!(b, b'.' | b'%' | b'\\')) {
        return None;
    }
    let lower = path.to_ascii_lowercase();
    if lower.contains('\\') || lower.contains("%5c") {
        return Some("the path holds a backslash");
    }
    if lower.contains("%2f") {
        return Some("the path holds an encoded /");
    }
    let dot_segment = lower
        .split('/')
        .any(|segment| matches!(segment.replace("%2e", ".").as_str(), "." | ".."));
    dot_segment.then_some("the path holds a . or .. segment")
}

#[cfg(feature = "lambda_http")]
mod lambda {
    use ::http::Request;
    use lambda_http::RequestExt as _;
    use lambda_http::request::RequestContext;

    use super::Route;

    /// The route from `lambda_http`'s request context, when the request came through it.
    pub(super) fn route<B>(request: &Request<B>) -> Option<Route> {
        let context = request.extensions().request_context_ref()?;
        let path = request.uri().path();
        let route = match context {
            RequestContext::ApiGatewayV1(rest) => Route {
                path: without_stage(path, rest.stage.as_deref()),
                shape: "apigw_rest_proxy",
                domain: rest.domain_name.clone(),
            },
            RequestContext::ApiGatewayV2(http) => Route {
                path: without_stage(path, http.stage.as_deref()),
                // A Function URL's event is an HTTP API payload 2.0 from its own domain.
                shape: if http
                    .domain_name
                    .as_deref()
                    .is_some_and(|d| d.contains(".lambda-url."))
                {
                    "function_url"
                } else {
                    "apigw_http_proxy"
                },
                domain: http.domain_name.clone(),
            },
            RequestContext::Alb(_) => Route {
                path: path.to_owned(),
                shape: "alb",
                domain: None,
            },
            RequestContext::VpcLattice(_) => Route {
                path: path.to_owned(),
                shape: "vpc_lattice",
                domain: None,
            },
            #[allow(unreachable_patterns)]
            _ => Route {
                path: path.to_owned(),
                shape: "lambda_http",
                domain: None,
            },
        };
        Some(route)
    }

    /// `/prod/messages` → `/messages` for stage `prod`; `$default` (or no stage), and a
    /// path not under the stage, as they are. Whole segments only.
    pub(super) fn without_stage(path: &str, stage: Option<&str>) -> String {
        let Some(stage) = stage.filter(|s| !s.is_empty() && *s != "$default") else {
            return path.to_owned();
        };
        let Some(rest) = path.strip_prefix('/').and_then(|p| p.strip_prefix(stage)) else {
            return path.to_owned();
        };
        if rest.is_empty() {
            "/".to_owned()
        } else if rest.starts_with('/') {
            rest.to_owned()
        } else {
            path.to_owned()
        }
    }

    #[cfg(test)]
    mod tests {
        use super::without_stage;

        #[test]
        fn the_stage_prefix_is_taken_off_whole_segments_only() {
            let prod = Some("prod");
            assert_eq!(without_stage("/prod/messages/1", prod), "/messages/1");
            assert_eq!(without_stage("/prod", prod), "/");
            assert_eq!(without_stage("/production/x", prod), "/production/x");
            assert_eq!(without_stage("/messages", prod), "/messages");
            assert_eq!(
                without_stage("/$default/x", Some("$default")),
                "/$default/x"
            );
            assert_eq!(without_stage("/prod/x", None), "/prod/x");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::suspicious;

    #[test]
    fn dot_segments_backslashes_and_encoded_separators_are_suspicious() {
        for path in [
            "/public/../admin",
            "/public/%2e%2e/admin",
            "/public/.%2E/admin",
            "/public/%2E./admin",
            "/./admin",
            "/public/%2f../admin",
            "/public\\..\\admin",
            "/public/%5cadmin",
            "/a/..",
        ] {
            assert!(suspicious(path).is_some(), "{path}");
        }
        for path in [
            "/",
            "/messages",
            "/v1.2/x",
            "/files/a.b",
            "/...",
            "/%2e%2e%2e",
        ] {
            assert_eq!(suspicious(path), None, "{path}");
        }
    }
}
