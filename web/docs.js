// docs.js - /docs: Swagger UI (swagger-ui-dist from npm) over weir's own
// /openapi.json, which lists every route of this server, the pipeline's
// routes and endpoints included. "Try it out" sends real requests (with
// --token, the browser's cookie from /?token=T carries it).
'use strict';
window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  tryItOutEnabled: false,
  withCredentials: true,
});
