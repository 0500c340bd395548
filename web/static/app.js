// Behaviour shared by every page. The Content-Security-Policy allows no inline script or event
// handler attributes, so pages declare what they need with data attributes and this file acts:
// a form (or its submit button) with data-confirm="question" asks before it is sent.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var submitter = event.submitter;
    var question = (submitter && submitter.getAttribute("data-confirm")) ||
      event.target.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });
})();
