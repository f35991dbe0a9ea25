//! The schema's actions as routes: Verified Permissions names an API-linked action
//! `"<method> <resource path>"` (`get /pets/{petId}`, `any /admin/{proxy+}`), so each is a
//! route template. A called route finds its action the way API Gateway picks a resource
//! (the most specific template wins), and a policy answer turns the actions Cedar permits
//! into IAM resources — with an explicit Deny where a permitted route's wildcard would
//! also let a forbidden route, or a deeper path no action may name, through, and only
//! where that Deny cannot hit a permitted route. Pure functions.

/// One segment of a route template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Segment {
    /// A literal segment (`pets`).
    Literal(String),
    /// `{name}`: one segment, captured.
    Param(String),
    /// `{name+}`: one or more segments, captured (API Gateway's greedy parameter).
    Greedy(String),
}

/// The path parameters a route captured: name and value.
pub(crate) type Captured = Vec<(String, String)>;

/// How specific a target is: per segment 2 (literal), 1 (`{param}`), 0 (greedy), then
/// whether it names its method.
type Rank = (Vec<u8>, u8);

/// What an action names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// An HTTP route: a method (`None` for `any`) and a path template.
    Route {
        /// The method as the ARN spells it (`GET`), `None` for `any`.
        method: Option<String>,
        /// The template's segments.
        segments: Vec<Segment>,
    },
    /// Anything else: a WebSocket route key (`$connect`) or a GraphQL field (`Query.getPost`).
    Other(String),
}

impl Target {
    /// Reads an action id: `"<method> /<path>"` is a route, anything else is itself.
    pub(crate) fn parse(id: &str) -> Target {
        let Some((method, path)) = id.split_once(' ') else {
            return Target::Other(id.to_owned());
        };
        if !path.starts_with('/')
            || method.is_empty()
            || !method.bytes().all(|b| b.is_ascii_alphabetic())
        {
            return Target::Other(id.to_owned());
        }
        let method = (!method.eq_ignore_ascii_case("any")).then(|| method.to_ascii_uppercase());
        let segments = path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(
                |s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    Some(name) => match name.strip_suffix('+') {
                        Some(name) => Segment::Greedy(name.to_owned()),
                        None => Segment::Param(name.to_owned()),
                    },
                    None => Segment::Literal(s.to_owned()),
                },
            )
            .collect();
        Target::Route { method, segments }
    }

    /// The path parameters this target captures from a called route, or `None` when it
    /// does not match it. `method` is the ARN's (`GET`, or a WebSocket route key).
    pub(crate) fn captures(&self, method: &str, path: &[String]) -> Option<Vec<(String, String)>> {
        let (wanted, segments) = match self {
            Target::Other(key) => return (key == method && path.is_empty()).then(Vec::new),
            Target::Route { method, segments } => (method, segments),
        };
        if wanted.as_deref().is_some_and(|m| m != method) {
            return None;
        }
        let mut captured = Vec::new();
        let mut rest = path.iter();
        for (i, segment) in segments.iter().enumerate() {
            match segment {
                Segment::Literal(literal) => {
                    if rest.next() != Some(literal) {
                        return None;
                    }
                }
                Segment::Param(name) => captured.push((name.clone(), rest.next()?.clone())),
                Segment::Greedy(name) => {
                    // Greedy only last, as API Gateway allows it.
                    let left: Vec<&str> = rest.by_ref().map(String::as_str).collect();
                    if left.is_empty() || i + 1 != segments.len() {
                        return None;
                    }
                    captured.push((name.clone(), left.join("/")));
                }
            }
        }
        rest.next().is_none().then_some(captured)
    }

    /// How specific this target is, for picking among the ones that match (API Gateway:
    /// a literal segment beats a parameter, a parameter beats a greedy one, a named method
    /// beats `ANY`). Larger is more specific.
    fn rank(&self) -> Rank {
        match self {
            Target::Other(_) => (vec![3], 1),
            Target::Route { method, segments } => (
                segments
                    .iter()
                    .map(|s| match s {
                        Segment::Literal(_) => 2,
                        Segment::Param(_) => 1,
                        Segment::Greedy(_) => 0,
                    })
                    .collect(),
                u8::from(method.is_some()),
            ),
        }
    }

    /// The IAM resource of this route after the stage (`GET/pets/*`): a parameter becomes
    /// `*` (IAM's `*` spans `/` as well).
    fn glob(&self) -> String {
        match self {
            Target::Other(key) => key.clone(),
            Target::Route { method, segments } => {
                let mut out = method.clone().unwrap_or_else(|| "*".to_owned());
                if segments.is_empty() {
                    out.push('/');
                }
                for segment in segments {
                    out.push('/');
                    match segment {
                        Segment::Literal(l) => out.push_str(l),
                        Segment::Param(_) | Segment::Greedy(_) => out.push('*'),
                    }
                }
                out
            }
        }
    }

    /// What this target's IAM resource lets through beyond its own routes: IAM's `*` spans
    /// `/`, so the `*` of a `{param}` (or of `any`'s method) also takes deeper paths
    /// (`GET/pets/*` takes `GET/pets/7/photos`). One resource per such `*`, that `*` made
    /// `*/*`: together they take exactly those paths (`GET/pets/*/*`). None for a greedy
    /// parameter, whose paths are deep already.
    fn spills(&self) -> Vec<String> {
        let Target::Route { method, segments } = self else {
            return Vec::new();
        };
        // The glob's pieces, with which of them is a one-segment `*`.
        let mut pieces: Vec<(String, bool)> = vec![match method {
            Some(m) => (m.clone(), false),
            None => ("*".to_owned(), true),
        }];
        if segments.is_empty() {
            pieces.push(("/".to_owned(), false));
        }
        for segment in segments {
            pieces.push(("/".to_owned(), false));
            pieces.push(match segment {
                Segment::Literal(l) => (l.clone(), false),
                Segment::Param(_) => ("*".to_owned(), true),
                Segment::Greedy(_) => ("*".to_owned(), false),
            });
        }
        (0..pieces.len())
            .filter(|&i| pieces[i].1)
            .map(|i| {
                pieces
                    .iter()
                    .enumerate()
                    .map(|(j, (piece, _))| if j == i { "*/*" } else { piece.as_str() })
                    .collect()
            })
            .collect()
    }

    /// The called routes this target may stand for, as a pattern over characters.
    fn language(&self) -> Vec<Elem> {
        match self {
            Target::Other(key) => key.chars().map(Elem::Char).collect(),
            Target::Route { method, segments } => {
                let mut out: Vec<Elem> = match method {
                    Some(m) => m.chars().map(Elem::Char).collect(),
                    None => vec![Elem::One(Class::NotSlash), Elem::Star(Class::NotSlash)],
                };
                if segments.is_empty() {
                    out.push(Elem::Char('/'));
                }
                for segment in segments {
                    out.push(Elem::Char('/'));
                    match segment {
                        Segment::Literal(l) => out.extend(l.chars().map(Elem::Char)),
                        Segment::Param(_) => {
                            out.extend([Elem::One(Class::NotSlash), Elem::Star(Class::NotSlash)]);
                        }
                        Segment::Greedy(_) => {
                            out.extend([Elem::One(Class::Any), Elem::Star(Class::Any)]);
                        }
                    }
                }
                out
            }
        }
    }

    /// Whether the target has no parameter (and a named method): one route only.
    fn is_literal(&self) -> bool {
        match self {
            Target::Other(_) => true,
            Target::Route { method, segments } => {
                method.is_some() && segments.iter().all(|s| matches!(s, Segment::Literal(_)))
            }
        }
    }
}

/// The schema's actions that name routes, with what a policy answer needs precomputed.
#[derive(Debug, Default)]
pub(crate) struct Routes {
    /// Each action's target, in the schema's order.
    pub(crate) targets: Vec<Target>,
    /// `covers[a][f]`: action `a`'s IAM resource matches some call that goes to `f`.
    covers: Vec<Vec<bool>>,
    /// Each target's resource after the stage (`GET/pets/*`), written once.
    globs: Vec<String>,
    /// Each target's spills ([`Target::spills`]), each with the targets it takes calls of.
    spills: Vec<Vec<(String, Vec<usize>)>>,
}

impl Routes {
    /// The targets, with which resource covers which call, computed once.
    pub(crate) fn new(targets: Vec<Target>) -> Routes {
        let globs: Vec<String> = targets.iter().map(Target::glob).collect();
        let patterns: Vec<Vec<Elem>> = globs.iter().map(|g| glob_elems(g)).collect();
        let languages: Vec<Vec<Elem>> = targets.iter().map(Target::language).collect();
        let covers = (0..targets.len())
            .map(|a| {
                (0..targets.len())
                    .map(|f| {
                        // A literal route's resource is that route alone, which goes to it.
                        a != f && !targets[a].is_literal() && intersect(&patterns[a], &languages[f])
                    })
                    .collect()
            })
            .collect();
        let spills = targets
            .iter()
            .map(|a| {
                a.spills()
                    .into_iter()
                    .map(|spill| {
                        let pattern = glob_elems(&spill);
                        let takes = (0..languages.len())
                            .filter(|&f| intersect(&pattern, &languages[f]))
                            .collect();
                        (spill, takes)
                    })
                    .collect()
            })
            .collect();
        Routes {
            targets,
            covers,
            globs,
            spills,
        }
    }

    /// The action a called route goes to: the most specific target matching it, with
    /// the path parameters it captured.
    pub(crate) fn find(&self, method: &str, path: &[String]) -> Option<(usize, Captured)> {
        let mut best: Option<(usize, Captured, Rank)> = None;
        for (i, target) in self.targets.iter().enumerate() {
            let Some(captured) = target.captures(method, path) else {
                continue;
            };
            let rank = target.rank();
            if best.as_ref().is_none_or(|(_, _, r)| rank > *r) {
                best = Some((i, captured, rank));
            }
        }
        best.map(|(i, captured, _)| (i, captured))
    }

    /// The policy statements for a principal Cedar permits `permitted[i]` of the actions:
    /// `(allow, deny)` resources under `stage_prefix`, or `None` when no policy of
    /// wildcards can say it (a forbidden route that a permitted one's `*` covers, and
    /// whose own `*` covers a permitted one). A permitted route's spills (the deeper
    /// paths its `*` lets through, which may be routes the schema does not name) are
    /// denied too, each where that Deny takes no call of a permitted route.
    pub(crate) fn statements(
        &self,
        permitted: &[bool],
        stage_prefix: &str,
    ) -> Option<(Vec<String>, Vec<String>)> {
        let mut allow = Vec::new();
        let mut deny = Vec::new();
        for f in 0..self.targets.len() {
            if permitted[f] {
                push_unique(&mut allow, self.resource(f, stage_prefix));
                continue;
            }
            let needed = (0..self.targets.len()).any(|a| permitted[a] && self.covers[a][f]);
            if !needed {
                continue;
            }
            let harmful = (0..self.targets.len()).any(|a| permitted[a] && self.covers[f][a]);
            if harmful {
                return None;
            }
            push_unique(&mut deny, self.resource(f, stage_prefix));
        }
        for (a, spills) in self.spills.iter().enumerate() {
            if !permitted[a] {
                continue;
            }
            for (spill, takes) in spills {
                if !takes.iter().any(|&f| permitted[f]) {
                    push_unique(&mut deny, format!("{stage_prefix}/{spill}"));
                }
            }
        }
        Some((allow, deny))
    }

    /// Target `f`'s IAM resource under `stage_prefix` (`arn:…:api/stage`).
    fn resource(&self, f: usize, stage_prefix: &str) -> String {
        format!("{stage_prefix}/{}", self.globs[f])
    }
}

fn push_unique(list: &mut Vec<String>, item: String) {
    if !list.contains(&item) {
        list.push(item);
    }
}

/// A set of characters a pattern element accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Any,
    NotSlash,
}

impl Class {
    fn accepts(self, c: char) -> bool {
        self == Class::Any || c != '/'
    }
}

/// One element of a pattern over characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Elem {
    Char(char),
    One(Class),
    Star(Class),
}

impl Elem {
    fn accepts(self, c: char) -> bool {
        match self {
            Elem::Char(x) => x == c,
            Elem::One(class) | Elem::Star(class) => class.accepts(c),
        }
    }
}

/// An IAM resource pattern: `*` is any run of characters, `?` any one.
fn glob_elems(glob: &str) -> Vec<Elem> {
    glob.chars()
        .map(|c| match c {
            '*' => Elem::Star(Class::Any),
            '?' => Elem::One(Class::Any),
            c => Elem::Char(c),
        })
        .collect()
}

/// IAM's verdict on one resource under a policy's Allow and Deny resources, as API
/// Gateway evaluates an authorizer's answer: an explicit Deny wins, then an Allow, else
/// denied. A pattern's `*` is any run of characters, `/` too; `?` any one. (For tests:
/// what [`Routes::statements`] promises is stated in IAM's terms.)
#[must_use]
pub fn iam_allows(allow: &[String], deny: &[String], resource: &str) -> bool {
    fn matches(pattern: &[u8], s: &[u8]) -> bool {
        match pattern.split_first() {
            None => s.is_empty(),
            Some((b'*', rest)) => (0..=s.len()).any(|i| matches(rest, &s[i..])),
            Some((&c, rest)) => {
                s.first().is_some_and(|&d| c == d || c == b'?') && matches(rest, &s[1..])
            }
        }
    }
    let hit = |pattern: &String| matches(pattern.as_bytes(), resource.as_bytes());
    !deny.iter().any(hit) && allow.iter().any(hit)
}

/// Whether two patterns accept a common string: a search over pairs of positions, on an
/// alphabet of the characters they name, `/`, and one character neither names, unless
/// their literal ends already differ (init asks it of every pair of actions).
fn intersect(a: &[Elem], b: &[Elem]) -> bool {
    // A common string begins with both literal prefixes and ends with both literal
    // suffixes: where two differ, there is none (most pairs of routes end here).
    let clash = |x: &mut dyn Iterator<Item = (&Elem, &Elem)>| {
        x.map_while(|pair| match pair {
            (Elem::Char(p), Elem::Char(q)) => Some(p != q),
            _ => None,
        })
        .any(|differ| differ)
    };
    !clash(&mut a.iter().zip(b)) && !clash(&mut a.iter().rev().zip(b.iter().rev())) && search(a, b)
}

/// [`intersect`]'s search over pairs of positions.
fn search(a: &[Elem], b: &[Elem]) -> bool {
    let mut alphabet: Vec<char> = a
        .iter()
        .chain(b)
        .filter_map(|e| match e {
            Elem::Char(c) => Some(*c),
            _ => None,
        })
        .collect();
    alphabet.push('/');
    alphabet.push('\u{1}');
    alphabet.sort_unstable();
    alphabet.dedup();
    // Positions reachable without input: a star may match nothing.
    let closure = |p: &[Elem], mut i: usize, out: &mut Vec<usize>| {
        loop {
            out.push(i);
            if i < p.len() && matches!(p[i], Elem::Star(_)) {
                i += 1;
            } else {
                break;
            }
        }
    };
    let mut seen = vec![false; (a.len() + 1) * (b.len() + 1)];
    let mut stack = Vec::new();
    let (mut ca, mut cb) = (Vec::new(), Vec::new());
    closure(a, 0, &mut ca);
    closure(b, 0, &mut cb);
    for &i in &ca {
        for &j in &cb {
            stack.push((i, j));
        }
    }
    while let Some((i, j)) = stack.pop() {
        let slot = i * (b.len() + 1) + j;
        if seen[slot] {
            continue;
        }
        seen[slot] = true;
        if i == a.len() && j == b.len() {
            return true;
        }
        if i == a.len() || j == b.len() {
            continue;
        }
        for &c in &alphabet {
            if !a[i].accepts(c) || !b[j].accepts(c) {
                continue;
            }
            let next_a = if matches!(a[i], Elem::Star(_)) {
                i
            } else {
                i + 1
            };
            let next_b = if matches!(b[j], Elem::Star(_)) {
                j
            } else {
                j + 1
            };
            ca.clear();
            cb.clear();
            closure(a, next_a, &mut ca);
            closure(b, next_b, &mut cb);
            for &x in &ca {
                for &y in &cb {
                    stack.push((x, y));
                }
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    const STAGE: &str = "arn:aws:execute-api:us-east-1:123456789012:abc/prod";

    fn routes(ids: &[&str]) -> Routes {
        Routes::new(ids.iter().map(|id| Target::parse(id)).collect())
    }

    fn path(p: &str) -> Vec<String> {
        p.split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn action_ids_read_as_verified_permissions_names_them() {
        assert_eq!(
            Target::parse("get /pets/{petId}"),
            Target::Route {
                method: Some("GET".into()),
                segments: vec![
                    Segment::Literal("pets".into()),
                    Segment::Param("petId".into())
                ]
            }
        );
        assert_eq!(
            Target::parse("any /admin/{proxy+}"),
            Target::Route {
                method: None,
                segments: vec![
                    Segment::Literal("admin".into()),
                    Segment::Greedy("proxy".into())
                ]
            }
        );
        assert_eq!(Target::parse("$connect"), Target::Other("$connect".into()));
        assert_eq!(
            Target::parse("Query.getPost"),
            Target::Other("Query.getPost".into())
        );
        assert_eq!(Target::parse("get /").glob(), "GET/");
        assert_eq!(Target::parse("any /a/{b}").glob(), "*/a/*");
    }

    #[test]
    fn a_called_route_goes_to_the_most_specific_action() {
        let r = routes(&[
            "get /users/{id}",
            "get /users/me",
            "any /{proxy+}",
            "post /users",
        ]);
        assert_eq!(r.find("GET", &path("/users/me")).unwrap().0, 1);
        let (i, captured) = r.find("GET", &path("/users/42")).unwrap();
        assert_eq!((i, captured), (0, vec![("id".into(), "42".into())]));
        assert_eq!(r.find("POST", &path("/users")).unwrap().0, 3);
        let (i, captured) = r.find("DELETE", &path("/users/42")).unwrap();
        assert_eq!(
            (i, captured),
            (2, vec![("proxy".into(), "users/42".into())])
        );
        assert!(r.find("GET", &path("/")).is_none());
        assert!(
            routes(&["get /users"])
                .find("GET", &path("/users/1"))
                .is_none()
        );
    }

    #[test]
    fn patterns_intersect_exactly() {
        let g = |s: &str| glob_elems(s);
        let t = |s: &str| Target::parse(s).language();
        assert!(intersect(&g("GET/users/*"), &t("get /users/me")));
        assert!(intersect(&g("GET/users/*"), &t("get /users/{id}/posts")));
        assert!(!intersect(&g("GET/users/*/posts"), &t("get /users/{id}")));
        assert!(!intersect(&g("POST/users/*"), &t("get /users/{id}")));
        assert!(intersect(&g("*/users"), &t("delete /users")));
        assert!(!intersect(&g("GET/"), &t("get /{id}")));
    }

    /// Where the literal ends of two patterns differ there is no common string: the
    /// shortcut answers as the search does, for every glob against every route here.
    #[test]
    fn the_literal_ends_shortcut_answers_as_the_search() {
        let ids = [
            "get /users",
            "get /users/me",
            "get /users/{id}",
            "get /users/{id}/posts",
            "any /users/{id}",
            "post /users",
            "delete /users/{proxy+}",
            "get /{id}",
            "get /",
            "any /{proxy+}",
            "get /users/{id}/posts/{post}",
            "patch /u/{x}/s",
            "get /usersx",
            "get /users/{id}s",
            "$connect",
            "Query.getPost",
        ];
        let targets: Vec<Target> = ids.iter().map(|id| Target::parse(id)).collect();
        let mut pairs = 0;
        let mut common = 0;
        for a in &targets {
            let pattern = glob_elems(&a.glob());
            for b in &targets {
                let language = b.language();
                let found = search(&pattern, &language);
                assert_eq!(intersect(&pattern, &language), found, "{} {b:?}", a.glob());
                pairs += 1;
                common += usize::from(found);
            }
        }
        assert!(pairs == 256 && common > 30, "{common}");
    }

    #[test]
    fn a_policy_allows_what_is_permitted_and_denies_only_what_a_wildcard_would_let_through() {
        let r = routes(&["get /users/{id}", "get /users/me", "get /users/{id}/posts"]);
        // {id} permitted, me forbidden: Allow users/*, Deny users/me (it goes to `me` alone).
        // And Deny users/*/*: the deeper paths users/* lets through, named or not.
        let (allow, deny) = r.statements(&[true, false, false], STAGE).unwrap();
        assert_eq!(allow, [format!("{STAGE}/GET/users/*")]);
        assert_eq!(
            deny,
            [
                format!("{STAGE}/GET/users/me"),
                format!("{STAGE}/GET/users/*/posts"),
                format!("{STAGE}/GET/users/*/*")
            ]
        );
        // me permitted, {id} forbidden: no Deny for {id} (users/me covers nothing else),
        // only posts' deeper paths.
        let (allow, deny) = r.statements(&[false, true, true], STAGE).unwrap();
        assert_eq!(
            allow,
            [
                format!("{STAGE}/GET/users/me"),
                format!("{STAGE}/GET/users/*/posts")
            ]
        );
        assert_eq!(deny, [format!("{STAGE}/GET/users/*/*/posts")]);
        // posts permitted, {id} forbidden: users/*/posts covers no call of {id}; its own
        // deeper paths (users/a/b/posts) are denied.
        let (allow, deny) = r.statements(&[false, false, true], STAGE).unwrap();
        assert_eq!(allow, [format!("{STAGE}/GET/users/*/posts")]);
        assert_eq!(deny, [format!("{STAGE}/GET/users/*/*/posts")]);
    }

    use super::iam_allows as iam;

    /// For every set of permitted actions a policy can state, IAM lets a call through
    /// exactly when the action it goes to is permitted; a call no action names is denied,
    /// except under a permitted route's deeper paths that a permitted route shares (the
    /// one thing no Deny can take alone), and only there.
    #[test]
    fn the_policy_lets_through_exactly_the_permitted_routes_and_nothing_the_schema_does_not_name() {
        let ids = [
            "get /users/{id}",
            "get /users/me",
            "get /users/{id}/posts",
            "any /a/{x}",
            "delete /users/{proxy+}",
        ];
        let r = routes(&ids);
        let words = ["users", "me", "posts", "7", "a", "b"];
        let mut paths: Vec<Vec<String>> = vec![Vec::new()];
        for _ in 0..3 {
            let longer: Vec<Vec<String>> = paths
                .iter()
                .filter(|p| p.len() == paths.iter().map(Vec::len).max().unwrap())
                .flat_map(|p| {
                    words.iter().map(move |w| {
                        let mut q = p.clone();
                        q.push((*w).to_owned());
                        q
                    })
                })
                .collect();
            paths.extend(longer);
        }
        let (mut checked, mut unnamed_denied) = (0, 0);
        for bits in 0..(1u32 << ids.len()) {
            let permitted: Vec<bool> = (0..ids.len()).map(|i| bits & (1 << i) != 0).collect();
            let Some((allow, deny)) = r.statements(&permitted, STAGE) else {
                continue;
            };
            // The spills no Deny could take: each shares calls with a permitted route.
            let kept: Vec<String> = (0..ids.len())
                .filter(|&a| permitted[a])
                .flat_map(|a| &r.spills[a])
                .filter(|(_, takes)| takes.iter().any(|&f| permitted[f]))
                .map(|(spill, _)| format!("{STAGE}/{spill}"))
                .collect();
            for method in ["GET", "POST", "DELETE"] {
                for path in &paths {
                    let arn = format!("{STAGE}/{method}/{}", path.join("/"));
                    let through = iam(&allow, &deny, &arn);
                    match r.find(method, path) {
                        Some((action, _)) => assert_eq!(through, permitted[action], "{arn}"),
                        None if through => {
                            assert!(iam(&kept, &[], &arn), "{arn} let through: {permitted:?}");
                        }
                        None => unnamed_denied += 1,
                    }
                    checked += 1;
                }
            }
        }
        assert!(
            checked > 5_000 && unnamed_denied > 1_000,
            "{checked} {unnamed_denied}"
        );
    }

    #[test]
    fn overlapping_wildcards_cannot_be_one_policy() {
        // /a/{x}/c and /a/b/{y} both take /a/b/c: permitting one and not the other has
        // no policy of wildcards.
        let r = routes(&["get /a/{x}/c", "get /a/b/{y}"]);
        assert!(r.statements(&[true, false], STAGE).is_none());
        assert!(r.statements(&[true, true], STAGE).is_some());
        assert!(r.statements(&[false, false], STAGE).is_some());
    }
}
