;;; projmodel-test.el --- ERT tests for projmodel.el, run by meson in emacs --batch -*- lexical-binding: t; -*-

;;; Commentary:

;; The discover config per build system, the build file errors among a partial refresh's
;; warnings, and the eglot contact's `initialize' request as a stub language server
;; (stub-lsp.py, installed as `rust-analyzer' on `exec-path') records it.

;;; Code:

(require 'ert)
(require 'json)
(require 'projmodel)

(defconst projmodel-test--dir
  (file-name-directory (or load-file-name buffer-file-name)))

(defmacro projmodel-test--with-tree (files &rest body)
  "Create a temporary directory holding FILES (name . contents), bind `root', run BODY."
  (declare (indent 1))
  `(let ((root (file-name-as-directory (make-temp-file "projmodel-test" t))))
     (unwind-protect
         (progn
           (dolist (f ,files)
             (let ((path (expand-file-name (car f) root)))
               (make-directory (file-name-directory path) t)
               (with-temp-file path (insert (cdr f)))))
           ,@body)
       (delete-directory root t))))

(defun projmodel-test--watch (files)
  "The filesToWatch of the discover config of a tree made of FILES, as a list."
  (projmodel-test--with-tree files
    (let ((config (projmodel-discover-config
                   (projmodel--root (expand-file-name "src/" root)))))
      (should (equal (plist-get config :command) ["projmodel" "discover" "{arg}"]))
      (append (plist-get config :filesToWatch) nil))))

(ert-deftest projmodel-discover-config-gn ()
  (should (equal (projmodel-test--watch '((".gn" . "") ("src/BUILD.gn" . "")))
                 '("BUILD.gn" ".gn"))))

(ert-deftest projmodel-discover-config-bazel ()
  (should (equal (projmodel-test--watch '(("MODULE.bazel" . "") ("src/BUILD.bazel" . "")))
                 '("BUILD" "BUILD.bazel" "MODULE.bazel" "WORKSPACE" "WORKSPACE.bazel"))))

(ert-deftest projmodel-discover-config-buck2 ()
  (should (equal (projmodel-test--watch '((".buckconfig" . "") ("src/BUCK" . "")))
                 '("BUCK" "TARGETS"))))

(ert-deftest projmodel-discover-config-cargo ()
  (should (equal (projmodel-test--watch '((".projmodel.json" . "{\"build_system\": \"cargo\"}")
                                          ("src/Cargo.toml" . "")))
                 '("Cargo.toml"))))

(ert-deftest projmodel-discover-config-mixed ()
  ;; .projmodel.json subprojects: the union of their build files, each once.
  (should (equal (projmodel-test--watch
                  '((".projmodel.json" .
                     "{\"subprojects\": [{\"build_system\": \"gn\"}, {\"build_system\": \"cargo\"},
                                        {\"build_system\": \"gn\"}]}")
                    ("src/x" . "")))
                 '("BUILD.gn" ".gn" "Cargo.toml"))))

;; The warnings of a partial refresh that name a file and line, as the Bazel and Buck2 adapters
;; word them (adapters/bazel/failed.c, adapters/buck2/buck2-error.c): each is a diagnostic, its
;; "(... could not load it ...)" end left out of the message; a warning of another form is not.
(ert-deftest projmodel-parse-warnings-bazel-and-buck2 ()
  (should (equal (projmodel--parse-warnings
                  (vector
                   '(:project "bazel:." :message "/repo/lib/config/BUILD.bazel:7:5: syntax error at 'edition': expected , (bazel could not load it with --keep_going)")
                   '(:project "buck2:." :message "/repo/lib/util/TARGETS:5:9: Parse error: unexpected new line here (buck2 could not load it with --keep-going)")
                   '(:project "buck2:." :message "/repo/third-party/rust/defs.bzl:4:5: Variable `rust_libary` not found (buck2 could not load it with --keep-going)")
                   '(:project "buck2:." :message "package 'root//broken': buck2 could not load it with --keep-going: Tabs are not allowed in Buck files: `root//broken:BUCK`")))
                 '(("/repo/lib/config/BUILD.bazel" 7 5 "syntax error at 'edition': expected ,")
                   ("/repo/lib/util/TARGETS" 5 9 "Parse error: unexpected new line here")
                   ("/repo/third-party/rust/defs.bzl" 4 5 "Variable `rust_libary` not found")))))

;; A failed refresh's Buck2 error (a BUCK file buck2 could not parse at all): starlark's
;; "error: MESSAGE" and " --> FILE:LINE:COL", FILE relative to the project root for the root
;; package, a nested one and another cell's (docs/build-integration.md, "Partial results").
(ert-deftest projmodel-parse-error-buck2-paths ()
  (let ((error "'buck2 --isolation-dir .projmodel targets --json //...' failed with exit status 2: Error parsing: `root//lib/util:TARGETS`"))
    (dolist (c '(("    error: Parse error: unexpected new line here\n     --> BUCK:3:7\n"
                  "/repo/BUCK" 3 7 "Parse error: unexpected new line here")
                 ("    error: Parse error: unexpected string literal\n     --> lib/util/TARGETS:5:9\n      |\n"
                  "/repo/lib/util/TARGETS" 5 9 "Parse error: unexpected string literal")
                 ("    0: From load at third-party/rust/BUCK:1\n    1: error: Variable `x` not found\n          --> third-party/rust/defs.bzl:4:5\n"
                  "/repo/third-party/rust/defs.bzl" 4 5 "Variable `x` not found")))
      (should (equal (projmodel--parse-error
                      error (concat "Error parsing: `root//lib/util:TARGETS`\n\nCaused by:\n" (car c))
                      "/repo")
                     (list (cdr c))))))
  ;; A Buck2 subproject: the error line names it, its files are relative to its root.
  (should (equal (projmodel--parse-error
                  "project 'buck2:third_party/b': 'buck2 targets //...' failed with exit status 2: Error parsing: `root//lib/x:BUCK`"
                  "Caused by:\n    error: Parse error: unexpected new line here\n     --> lib/x/BUCK:2:3\n"
                  "/repo")
                 '(("/repo/third_party/b/lib/x/BUCK" 2 3 "Parse error: unexpected new line here")))))

(define-derived-mode projmodel-test-rust-mode prog-mode "Rust(test)"
  "Stands in for rust-mode, which Debian's Emacs 28 does not ship.")

(ert-deftest projmodel-eglot-initialize-sends-discover-config ()
  (require 'eglot)
  (projmodel-test--with-tree '((".gn" . "") ("src/lib.rs" . "") ("src/BUILD.gn" . ""))
    (let* ((bin (expand-file-name "bin/" root))
           (out (expand-file-name "initialize.json" root))
           (process-environment (cons (concat "PM_STUB_OUT=" out) process-environment))
           (exec-path (cons bin exec-path))
           (eglot-server-programs nil)
           (eglot-connect-timeout 20)
           (eglot-sync-connect t)
           (server nil))
      (make-directory bin)
      (make-symbolic-link (expand-file-name "stub-lsp.py" projmodel-test--dir)
                          (expand-file-name "rust-analyzer" bin))
      (projmodel-eglot-setup)
      (setf (car (car eglot-server-programs)) 'projmodel-test-rust-mode)
      (with-current-buffer (find-file-noselect (expand-file-name "src/lib.rs" root))
        (projmodel-test-rust-mode)
        (unwind-protect
            (progn
              (setq server (apply #'eglot (eglot--guess-contact)))
              (should (file-exists-p out))
              (let* ((params (json-parse-string
                              (with-temp-buffer (insert-file-contents out) (buffer-string))
                              :object-type 'alist :array-type 'list))
                     (discover (alist-get 'discoverConfig
                                          (alist-get 'workspace
                                                     (alist-get 'initializationOptions params)))))
                (should (equal (alist-get 'command discover) '("projmodel" "discover" "{arg}")))
                (should (equal (alist-get 'filesToWatch discover) '("BUILD.gn" ".gn")))
                (should (equal (alist-get 'progressLabel discover) "projmodel"))))
          (when server (ignore-errors (eglot-shutdown server nil 5)))
          (kill-buffer))))))

(provide 'projmodel-test)
;;; projmodel-test.el ends here
