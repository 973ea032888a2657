"""Writes crates/web/src/openapi.json, the OpenAPI 3.1 description of
Paperboy's JSON API. Run it after changing the API, from the repository
root: python3 scripts/openapi.py crates/web/src/openapi.json

Patterns and limits here are the server's own (arXiv ids exactly as
paperboy_core::ArxivId accepts them, comment bodies up to 20,000
characters), so that schemathesis finds schema-valid requests accepted
and schema-violating ones refused (scripts/schemathesis.sh).
"""
import json, sys

OLD = ["acc-phys","adap-org","alg-geom","ao-sci","astro-ph","atom-ph","bayes-an","chao-dyn",
"chem-ph","cmp-lg","comp-gas","cond-mat","cs","dg-ga","funct-an","gr-qc","hep-ex",
"hep-lat","hep-ph","hep-th","math","math-ph","mtrl-th","nlin","nucl-ex","nucl-th",
"patt-sol","physics","plasm-ph","q-alg","q-bio","quant-ph","solv-int","supr-con"]
MM = "(0[1-9]|1[0-2])"
NEW = f"(07(0[4-9]|1[0-2])\\.[0-9]{{4}}|(0[89]|1[0-4]){MM}\\.[0-9]{{4}}|(1[5-9]|[2-9][0-9]){MM}\\.[0-9]{{5}})"
ARCH = "|".join(OLD)
OLDRE = f"({ARCH})(\\.[A-Za-z-]+)?/(9[1-9]{MM}|0[0-6]{MM}|070[1-3])[0-9]{{3}}"
ID_PATTERN = f"^({NEW}|{OLDRE})(v0*[1-9][0-9]{{0,8}})?$"
I64 = 9223372036854775807

def err(desc):
    return {"description": desc, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}

def ok(schema, desc="OK", status="200"):
    return {status: {"description": desc, "content": {"application/json": {"schema": schema}}}}

def ref(n): return {"$ref": f"#/components/schemas/{n}"}
def arr(s): return {"type": "array", "items": s}
nullable_str = {"type": ["string", "null"]}

ID = {"name": "id", "in": "path", "required": True,
      "description": "arXiv id as arXiv writes it, optionally with a version (2203.05482, 2203.05482v2); old-style ids keep their slash (hep-th/9901001, sent as one path segment or two)",
      "schema": {"type": "string", "pattern": ID_PATTERN}, "examples": {"new": {"value": "2203.05482"}, "old": {"value": "hep-th/9901001"}}}
CID = {"name": "cid", "in": "path", "required": True, "description": "a comment's id",
       "schema": {"type": "integer", "minimum": 1, "maximum": I64}}
LIMIT = lambda d, m: {"name": "limit", "in": "query", "description": f"results per page (1 to {m})", "schema": {"type": "integer", "minimum": 1, "maximum": m, "default": d}}
PAGE = {"name": "p", "in": "query", "description": "page number, from 0", "schema": {"type": "integer", "minimum": 0, "maximum": 100000, "default": 0}}

WRITE = [{"bearer": []}, {"session": []}]
TAG_SCHEMA = {"type": "string", "pattern": "^[A-Za-z0-9._-]{1,40}$", "description": "a tag: letters, digits, '.', '_' and '-' (up to 40; stored lowercased)"}
TAG_Q = {"name": "tag", "in": "query", "description": "only papers with this tag", "schema": TAG_SCHEMA}
TAG_P = {"name": "tag", "in": "path", "required": True, "schema": TAG_SCHEMA}
USERNAME = {"name": "username", "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}
E400 = err("a malformed parameter or body, or a comment over 20,000 characters (the message says which, and names the limit)")
E401 = err("no session or API token")
E403 = err("not allowed: a session without its X-CSRF-Token header, a suspended member (the message names the end date), a locked discussion, a limit for new accounts, or not the comment's author")
E404 = err("no such paper or comment")
E409 = err("conflicts with what is stored")
E429 = err("too many requests for now; Retry-After says when to try again")
E503 = err("search is not set up on this instance, or the store does not answer")
BODY = {"type": "string", "minLength": 1, "maxLength": 20000, "pattern": "\\S",
        "description": "Markdown (CommonMark); TeX between $…$ is kept as typed. At most 20,000 characters, not only spaces."}

paths = {
 "/api/papers/{id}": {"get": {"operationId": "getPaper", "summary": "One paper", "tags": ["papers"],
   "parameters": [ID], "responses": {**ok(ref("Paper")), "400": E400, "404": E404}}},
 "/api/papers/{id}/related": {"get": {"operationId": "relatedPapers", "summary": "The papers nearest in meaning, best first", "tags": ["papers"],
   "parameters": [ID, LIMIT(10, 50)], "responses": {**ok(arr(ref("Row"))), "400": E400, "404": E404, "503": E503}}},
 "/api/papers/{id}/upvote": {
   "post": {"operationId": "upvote", "summary": "Upvote a paper (idempotent)", "tags": ["votes"], "security": WRITE,
     "parameters": [ID], "responses": {**ok(ref("Vote")), "400": E400, "401": E401, "403": E403, "404": E404, "429": E429}},
   "delete": {"operationId": "removeUpvote", "summary": "Take back an upvote (idempotent)", "tags": ["votes"], "security": WRITE,
     "parameters": [ID], "responses": {**ok(ref("Vote")), "400": E400, "401": E401, "403": E403, "404": E404, "429": E429}}},
 "/api/papers/{id}/comments": {
   "get": {"operationId": "listComments", "summary": "A paper's discussion: top-level comments oldest first, each with its replies (one level)", "tags": ["discussions"],
     "parameters": [ID], "responses": {**ok(arr(ref("Comment"))), "400": E400, "404": E404}},
   "post": {"operationId": "postComment", "summary": "Comment on a paper, or reply (parentId); a reply to a reply joins its thread", "tags": ["discussions"], "security": WRITE,
     "parameters": [ID],
     "requestBody": {"required": True, "content": {"application/json": {"schema": ref("NewComment")}}},
     "responses": {**ok(ref("Comment"), "the comment as stored", "201"), "400": E400, "401": E401, "403": E403,
                   "404": err("no such paper, or no such comment to reply to"), "415": err("the body is not JSON"), "422": err("the JSON does not have the documented shape"), "429": E429}}},
 "/api/comments/{cid}": {
   "patch": {"operationId": "editComment", "summary": "Edit one's comment (marked edited; the earlier text is kept)", "tags": ["discussions"], "security": WRITE,
     "parameters": [CID], "requestBody": {"required": True, "content": {"application/json": {"schema": ref("EditComment")}}},
     "responses": {**ok(ref("Comment")), "400": E400, "401": E401, "403": E403, "404": err("no such comment, or it was deleted"),
                   "415": err("the body is not JSON"), "422": err("the JSON does not have the documented shape")}},
   "delete": {"operationId": "deleteComment", "summary": "Delete one's comment (a moderator may delete any); the thread keeps a placeholder", "tags": ["discussions"], "security": WRITE,
     "parameters": [CID], "responses": {**ok(ref("Comment")), "400": E400, "401": E401, "403": E403, "404": err("no such comment, or it was already deleted")}}},
 "/api/comments/{cid}/upvote": {
   "post": {"operationId": "upvoteComment", "summary": "Upvote a comment (idempotent)", "tags": ["discussions"], "security": WRITE,
     "parameters": [CID], "responses": {**ok(ref("CommentVote")), "400": E400, "401": E401, "403": E403, "404": E404, "429": E429}},
   "delete": {"operationId": "removeCommentUpvote", "summary": "Take back an upvote on a comment", "tags": ["discussions"], "security": WRITE,
     "parameters": [CID], "responses": {**ok(ref("CommentVote")), "400": E400, "401": E401, "403": E403, "404": E404, "429": E429}}},
 "/api/comments/{cid}/report": {
   "post": {"operationId": "reportComment", "summary": "Report a comment to the moderators", "tags": ["discussions"], "security": WRITE,
     "parameters": [CID], "requestBody": {"required": True, "content": {"application/json": {"schema": ref("NewReport")}}},
     "responses": {**ok(ref("Report"), "the report, for the moderators' queue", "201"), "400": E400, "401": E401, "403": E403, "404": E404,
                   "415": err("the body is not JSON"), "422": err("the JSON does not have the documented shape"), "429": E429}}},
 "/api/papers/search": {"get": {"operationId": "searchPapers", "summary": "Search by keyword, by meaning, or both (hybrid), best first", "tags": ["papers"],
   "parameters": [
     {"name": "q", "in": "query", "required": True, "description": "the query (keyword syntax: \"phrases\", -exclusions, cat:cs.LG)",
      "schema": {"type": "string", "minLength": 1, "maxLength": 1000, "pattern": "\\S"}},
     {"name": "mode", "in": "query", "schema": {"type": "string", "enum": ["keyword", "semantic", "hybrid"], "default": "hybrid"}},
     LIMIT(20, 100),
     {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 10000, "default": 0}}],
   "responses": {**ok(arr(ref("SearchRow"))), "400": E400, "503": E503}}},
 "/api/daily_papers": {"get": {"operationId": "dailyPapers", "summary": "Papers submitted to the daily lists: one day (default today), an ISO week or a month; with submitter alone, all of that member's submissions", "tags": ["lists"],
   "parameters": [
     {"name": "date", "in": "query", "description": "a day, YYYY-MM-DD (wins over week and month)", "schema": {"type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}},
     {"name": "week", "in": "query", "description": "an ISO week, YYYY-Www (wins over month); W53 of a 52-week year is the following week", "schema": {"type": "string", "pattern": "^[0-9]{4}-W(0[1-9]|[1-4][0-9]|5[0-3])$", "examples": ["2024-W18"]}},
     {"name": "month", "in": "query", "description": "a month, YYYY-MM", "schema": {"type": "string", "pattern": "^[0-9]{4}-(0[1-9]|1[0-2])$", "examples": ["2024-05"]}},
     {"name": "submitter", "in": "query", "description": "only this member's submissions", "schema": {"type": "string", "minLength": 1}},
     {"name": "sort", "in": "query", "schema": {"type": "string", "enum": ["trending", "publishedAt"], "default": "trending"}},
     PAGE, LIMIT(50, 100)],
   "responses": {**ok(arr(ref("Row"))), "400": E400}}},
 "/api/trending": {"get": {"operationId": "trending", "summary": "Papers by trending score (formula on /about)", "tags": ["lists"],
   "parameters": [PAGE, LIMIT(50, 100)], "responses": {**ok(arr(ref("Row"))), "400": E400}}},
 "/api/me/library": {"get": {"operationId": "myLibrary", "summary": "The caller's library (one tag of it, title words, sorted), newest saved first by default", "tags": ["library"], "security": WRITE,
   "parameters": [TAG_Q, {"name": "q", "in": "query", "description": "words the title contains", "schema": {"type": "string", "maxLength": 300}},
     {"name": "sort", "in": "query", "schema": {"type": "string", "enum": ["added", "published", "title"], "default": "added"}},
     LIMIT(100, 1000), {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 1000000, "default": 0}}],
   "responses": {**ok(arr(ref("LibraryEntry"))), "400": E400, "401": E401}}},
 "/api/me/library/export": {"get": {"operationId": "exportLibrary", "summary": "The caller's library (or one tag) as a file: BibTeX, JSON or CSV", "tags": ["library"], "security": WRITE,
   "parameters": [{"name": "format", "in": "query", "schema": {"type": "string", "enum": ["bibtex", "json", "csv"], "default": "bibtex"}}, TAG_Q],
   "responses": {"200": {"description": "the file", "content": {"application/x-bibtex": {"schema": {"type": "string"}}, "application/json": {"schema": arr({"type": "object"})}, "text/csv": {"schema": {"type": "string"}}}},
                 "400": E400, "401": E401}}},
 "/api/me/library/{id}": {
   "put": {"operationId": "savePaper", "summary": "Save a paper to the caller's library with exactly these tags (idempotent)", "tags": ["library"], "security": WRITE,
     "parameters": [ID], "requestBody": {"required": True, "content": {"application/json": {"schema": ref("SaveBody")}}},
     "responses": {**ok(ref("Saved")), "400": E400, "401": E401, "404": E404, "415": err("the body is not JSON"), "422": err("the JSON does not have the documented shape")}},
   "delete": {"operationId": "unsavePaper", "summary": "Take a paper out of the caller's library (idempotent)", "tags": ["library"], "security": WRITE,
     "parameters": [ID], "responses": {**ok(ref("Unsaved")), "400": E400, "401": E401, "404": E404}}},
 "/api/me/recommendations": {"get": {"operationId": "recommendations", "summary": "Papers picked for the caller from their library (or one tag) and feedback, best first, each with why", "tags": ["library"], "security": WRITE,
   "parameters": [TAG_Q, {"name": "days", "in": "query", "description": "papers of the last N days; 0 for the whole store", "schema": {"type": "integer", "minimum": 0, "maximum": 3650, "default": 7}}, LIMIT(20, 100)],
   "responses": {**ok(arr(ref("Recommendation"))), "400": E400, "401": E401, "503": E503}}},
 "/api/me/recommendations/{id}/feedback": {"post": {"operationId": "recommendationFeedback", "summary": "👍 (1) or 👎 (-1) on a paper: more or fewer like it", "tags": ["library"], "security": WRITE,
   "parameters": [ID], "requestBody": {"required": True, "content": {"application/json": {"schema": ref("Feedback")}}},
   "responses": {**ok(ref("FeedbackResult")), "400": E400, "401": E401, "404": E404, "415": err("the body is not JSON"), "422": err("the JSON does not have the documented shape")}}},
 "/api/users/{username}/collections/{tag}": {
   "get": {"operationId": "collection", "summary": "A member's public collection (a public tag); a private or missing one is 404", "tags": ["library"],
     "parameters": [USERNAME, TAG_P, LIMIT(100, 1000)], "responses": {**ok(ref("Collection")), "400": E400, "404": err("no such member, or no public collection of that name")}},
   "put": {"operationId": "setCollectionVisibility", "summary": "Make one's own tag public (a collection) or private", "tags": ["library"], "security": WRITE,
     "parameters": [USERNAME, TAG_P], "requestBody": {"required": True, "content": {"application/json": {"schema": ref("Visibility")}}},
     "responses": {**ok(ref("VisibilityResult")), "400": E400, "401": E401, "403": err("someone else's tag"), "404": err("the caller has no such tag"),
                   "415": err("the body is not JSON"), "422": err("the JSON does not have the documented shape")}}},
 "/healthz": {"get": {"operationId": "health", "summary": "200 when the store answers", "tags": ["operations"],
   "responses": {**ok({"type": "object", "required": ["status", "store"], "properties": {"status": {"type": "string", "const": "ok"}, "store": {"type": "string", "enum": ["sqlite", "postgres"]}}}),
                 "503": err("the store does not answer")}}},
 "/readyz": {"get": {"operationId": "ready", "summary": "200 when this node should get traffic: the store answers and the keyword index is within 2,000 changes of it", "tags": ["operations"],
   "responses": {**ok({"type": "object", "required": ["status", "indexLag"], "properties": {"status": {"type": "string", "const": "ready"}, "indexLag": {"type": "integer", "minimum": 0}}}),
                 "503": err("the store does not answer, or the index is catching up")}}},
}

user_ref = {"type": "object", "required": ["user", "username"], "description": "A member, named as Hugging Face names one (user is the username)",
  "properties": {"user": {"type": "string"}, "username": {"type": "string"}, "fullname": {"type": "string"}, "type": {"type": "string", "const": "user"}}}

# The paper's code link, stars and project page, repeated at a row's top
# level where Hugging Face's client reads them.
TOP = {"githubRepo": nullable_str, "githubStars": {"type": ["integer", "null"], "minimum": 0}, "projectPage": nullable_str}

schemas = {
 "User": user_ref,
 "Author": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}, "user": {**ref("User"), "description": "the member approved as this author, when one is"}}},
 "Paper": {"type": "object",
   "required": ["id", "title", "summary", "authors", "publishedAt", "categories", "upvotes", "githubRepo", "githubStars", "projectPage", "numComments", "codeLinks", "versions", "arxivUrl", "pdfUrl"],
   "properties": {
     "id": {"type": "string", "examples": ["2203.05482", "hep-th/9901001"]},
     "title": {"type": "string"}, "summary": {"type": "string", "description": "the abstract"},
     "authors": arr(ref("Author")),
     "publishedAt": {"type": "string", "format": "date-time", "description": "the first version's date"},
     "categories": arr({"type": "string"}),
     "upvotes": {"type": "integer", "minimum": 0},
     "githubRepo": {**nullable_str, "description": "the code link an approved author set, else the first GitHub link in the metadata"},
     "githubStars": {"type": ["integer", "null"], "minimum": 0, "description": "the latest count the star tracker saw"},
     "projectPage": {**nullable_str, "description": "set by an approved author"},
     "numComments": {"type": "integer", "minimum": 0},
     "codeLinks": arr({"type": "object", "required": ["kind", "url"], "properties": {"kind": {"type": "string"}, "url": {"type": "string"}}}),
     "versions": arr({"type": "object", "required": ["version", "createdAt"], "properties": {"version": {"type": "string"}, "createdAt": {"type": "string", "format": "date-time"}}}),
     "arxivComments": {**nullable_str, "description": "arXiv's comments field (pages, venue)"},
     "journalRef": nullable_str, "doi": nullable_str, "license": nullable_str,
     "arxivUrl": {"type": "string"}, "pdfUrl": {"type": "string"}}},
 "Submitter": {"type": "object", "required": ["name", "fullname", "user"], "properties": {"name": {"type": "string"}, "fullname": {"type": "string"}, "user": {"type": "string"}, "type": {"type": "string", "const": "user"}}},
 "Row": {"type": "object", "required": ["paper", "title", "summary", "publishedAt", "githubRepo", "githubStars", "projectPage", "submittedBy", "submittedOnDailyAt", "numComments"],
   "properties": {"paper": ref("Paper"), "title": {"type": "string"}, "summary": {"type": "string"}, "publishedAt": {"type": "string", "format": "date-time"},
     **TOP,
     "submittedBy": {"oneOf": [ref("Submitter"), {"type": "null"}]},
     "submittedOnDailyAt": {"type": ["string", "null"], "format": "date-time"},
     "numComments": {"type": "integer", "minimum": 0}}},
 "SearchRow": {"type": "object", "required": ["paper", "title", "summary", "publishedAt", "githubRepo", "githubStars", "projectPage", "score"],
   "properties": {"paper": ref("Paper"), "title": {"type": "string"}, "summary": {"type": "string"}, "publishedAt": {"type": "string", "format": "date-time"},
     **TOP,
     "score": {"type": "number"},
     "highlightedTitle": {**nullable_str, "description": "HTML: escaped text with <mark> around matching terms"},
     "highlightedSummary": nullable_str}},
 "Comment": {"type": "object", "required": ["id", "parentId", "author", "body", "html", "status", "createdAt", "editedAt", "upvotes", "replies"],
   "properties": {
     "id": {"type": "integer", "minimum": 1},
     "parentId": {"type": ["integer", "null"], "description": "the comment this replies to"},
     "author": {"oneOf": [ref("User"), {"type": "null"}], "description": "null once deleted or hidden"},
     "body": {"type": "string", "description": "the Markdown as typed; empty once deleted or hidden"},
     "html": {"type": "string", "description": "the Markdown rendered and sanitised; empty once deleted or hidden"},
     "status": {"type": "string", "enum": ["visible", "deleted", "hidden"]},
     "createdAt": {"type": "string", "format": "date-time"},
     "editedAt": {"type": ["string", "null"], "format": "date-time"},
     "upvotes": {"type": "integer", "minimum": 0},
     "replies": arr(ref("Comment"))}},
 "NewComment": {"type": "object", "required": ["body"], "additionalProperties": False,
   "properties": {"body": BODY, "parentId": {"type": ["integer", "null"], "minimum": 1, "maximum": I64, "description": "reply to this comment"}}},
 "EditComment": {"type": "object", "required": ["body"], "additionalProperties": False, "properties": {"body": BODY}},
 "NewReport": {"type": "object", "required": ["reason"], "additionalProperties": False,
   "properties": {"reason": {"type": "string", "minLength": 1, "maxLength": 1000, "pattern": "\\S"}}},
 "Report": {"type": "object", "required": ["id", "commentId", "reason"], "properties": {"id": {"type": "integer"}, "commentId": {"type": "integer"}, "reason": {"type": "string"}}},
 "Vote": {"type": "object", "required": ["id", "upvotes", "upvoted"], "properties": {"id": {"type": "string"}, "upvotes": {"type": "integer", "minimum": 0}, "upvoted": {"type": "boolean"}}},
 "CommentVote": {"type": "object", "required": ["id", "upvotes", "upvoted"], "properties": {"id": {"type": "integer"}, "upvotes": {"type": "integer", "minimum": 0}, "upvoted": {"type": "boolean"}}},
 "LibraryEntry": {"type": "object", "required": ["paper", "tags", "addedAt"], "properties": {"paper": ref("Paper"), "tags": arr({"type": "string"}), "addedAt": {"type": "string", "format": "date-time"}}},
 "SaveBody": {"type": "object", "additionalProperties": False, "properties": {"tags": {**arr(TAG_SCHEMA), "maxItems": 20}}},
 "Saved": {"type": "object", "required": ["id", "saved", "added", "tags"], "properties": {"id": {"type": "string"}, "saved": {"type": "boolean", "const": True}, "added": {"type": "boolean", "description": "new to the library"}, "tags": arr({"type": "string"})}},
 "Unsaved": {"type": "object", "required": ["id", "saved", "removed"], "properties": {"id": {"type": "string"}, "saved": {"type": "boolean", "const": False}, "removed": {"type": "boolean", "description": "it was in the library"}}},
 "Recommendation": {"type": "object", "required": ["paper", "score", "why"], "properties": {"paper": ref("Paper"), "score": {"type": "number"},
   "why": {"type": "object", "required": ["similarTo", "terms"], "properties": {"similarTo": {**arr({"type": "string"}), "description": "library papers it is closest to (arXiv ids), closest first"}, "terms": {**arr({"type": "string"}), "description": "distinctive words it shares with them"}}}}},
 "Feedback": {"type": "object", "required": ["value"], "additionalProperties": False, "properties": {"value": {"type": "integer", "enum": [1, -1]}}},
 "FeedbackResult": {"type": "object", "required": ["id", "value"], "properties": {"id": {"type": "string"}, "value": {"type": "integer", "enum": [1, -1]}}},
 "Collection": {"type": "object", "required": ["owner", "tag", "papers"], "properties": {"owner": {"type": "string"}, "tag": {"type": "string"}, "papers": arr(ref("LibraryEntry"))}},
 "Visibility": {"type": "object", "required": ["public"], "additionalProperties": False, "properties": {"public": {"type": "boolean"}}},
 "VisibilityResult": {"type": "object", "required": ["tag", "public"], "properties": {"tag": {"type": "string"}, "public": {"type": "boolean"}}},
 "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "object", "required": ["code", "message"],
   "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}}},
}

spec = {
 "openapi": "3.1.0",
 "info": {"title": "Paperboy API", "version": "0.2.0",
   "description": "Papers, daily lists, trending, search, discussions, and each member's library and recommendations. Shapes follow the Hugging Face papers API where it has one, so its clients work. Errors are {error:{code,message}}. Writes need an API token (Authorization: Bearer …, from `paperboy user token NAME`) or a session cookie with the X-CSRF-Token header."},
 "tags": [{"name": n} for n in ["papers", "lists", "votes", "discussions", "library", "operations"]],
 "paths": paths,
 "components": {"schemas": schemas, "securitySchemes": {
   "bearer": {"type": "http", "scheme": "bearer", "description": "A personal API token (paperboy user token NAME)"},
   "session": {"type": "apiKey", "in": "cookie", "name": "pb_session", "description": "A browser session; JSON calls also send the pb_csrf cookie's value as X-CSRF-Token"}}},
}
json.dump(spec, open(sys.argv[1], "w"), indent=2, ensure_ascii=False)
open(sys.argv[1], "a").write("\n")
