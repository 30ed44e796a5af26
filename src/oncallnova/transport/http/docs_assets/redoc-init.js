// Starts ReDoc on /redoc (a file, not an inline script: see swagger-init.js).
"use strict";
(function () {
  var script = document.currentScript;
  Redoc.init(script.dataset.openapiUrl, {}, document.getElementById("redoc"));
})();
