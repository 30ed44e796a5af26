// Starts Swagger UI on /docs. A file rather than an inline script, so the page runs
// under a Content-Security-Policy without 'unsafe-inline'. The page's own <script> tag
// says where the OpenAPI document is (it honours a root path).
"use strict";
(function () {
  var script = document.currentScript;
  window.ui = SwaggerUIBundle({
    url: script.dataset.openapiUrl,
    oauth2RedirectUrl: window.location.origin + script.dataset.oauth2RedirectUrl,
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  });
})();
