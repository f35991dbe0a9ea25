//! Which route a request calls, as the route rules see it: the path relative to the API,
//! and the front door it came through (for the log line).
//!
//! | front door | path the rules see | `shape` |
//! |---|---|---|
//! | axum, hyper, any tower server | the URI's path | `http` |
//! | `lambda_http`, API Gateway REST proxy | the event's `path` (no stage) | `apigw_rest_proxy` |
//! | `lambda_http`, API Gateway HTTP API proxy | `rawPath` without a `/{stage}` prefix | `apigw_http_proxy` |
//! | `lambda_http`, Lambda Function URL | `rawPath` | `function_url` |
//! | `lambda_http`, Application Load Balancer | the URI's path | `alb` |
//! | `lambda_http`, VPC Lattice | the URI's path | `vpc_lattice` |
//!
//! `lambda_http` puts the API Gateway stage in front of the URI's path (unless
//! `AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH` is set); the route rules, like the ARN they are
//! matched against in the authorizer, are relative to the stage, so with the
//! `lambda_http` feature the layer reads the path from the event's own request context.

use ::http::Request;

/// The called route of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Route {
    pub(crate) path: String,
    pub(crate) shape: &'static str,
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
    }
}

#[cfg(feature = "lambda_http")]
mod lambda {
    use ::http::Request;
    use lambda_http::RequestExt as _;
    use lambda_http::request::RequestContext;

    use super::Route;

    /// The route from `lambda_http`'s request context, when the request came through it.
    pub(super) fn route<B>(request: &Request<B>) -> Option<Route> {
        let extensions = request.extensions();
        let context = extensions.request_context_ref()?;
        let uri_path = || request.uri().path().to_owned();
        let route = match context {
            RequestContext::ApiGatewayV1(_) => Route {
                path: non_empty(extensions.raw_http_path()).unwrap_or_else(uri_path),
                shape: "apigw_rest_proxy",
            },
            RequestContext::ApiGatewayV2(http) => {
                let raw = non_empty(extensions.raw_http_path()).unwrap_or_else(uri_path);
                let function_url = http
                    .domain_name
                    .as_deref()
                    .is_some_and(|d| d.contains(".lambda-url."));
                let path = match http.stage.as_deref() {
                    Some(stage) if stage != "$default" && !function_url => {
                        without_stage(&raw, stage)
                    }
                    _ => raw,
                };
                Route {
                    path,
                    shape: if function_url {
                        "function_url"
                    } else {
                        "apigw_http_proxy"
                    },
                }
            }
            RequestContext::Alb(_) => Route {
                path: uri_path(),
                shape: "alb",
            },
            RequestContext::VpcLattice(_) => Route {
                path: uri_path(),
                shape: "vpc_lattice",
            },
            #[allow(unreachable_patterns)]
            _ => Route {
                path: uri_path(),
                shape: "lambda_http",
            },
        };
        Some(route)
    }

    fn non_empty(path: &str) -> Option<String> {
        (!path.is_empty()).then(|| path.to_owned())
    }

    /// `/prod/messages` → `/messages` for stage `prod`; a path not under the stage as it is.
    pub(super) fn without_stage(path: &str, stage: &str) -> String {
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
            assert_eq!(without_stage("/prod/messages/1", "prod"), "/messages/1");
            assert_eq!(without_stage("/prod", "prod"), "/");
            assert_eq!(without_stage("/production/x", "prod"), "/production/x");
            assert_eq!(without_stage("/messages", "prod"), "/messages");
        }
    }
}
