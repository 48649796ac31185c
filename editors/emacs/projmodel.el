;;; projmodel.el --- rust-analyzer project model for GN, Bazel, Buck2 and Cargo monorepos -*- lexical-binding: t; -*-

;; Version: 0.1.0
;; Package-Requires: ((emacs "28.1"))
;; Keywords: languages, tools
;; SPDX-License-Identifier: MIT

;;; Commentary:

;; Routes rust-analyzer's project discovery through the projmodel daemon and offers commands
;; that talk to it.  With eglot:
;;
;;   (require 'projmodel)
;;   (projmodel-eglot-setup)
;;
;; makes eglot start rust-analyzer with `workspace.discoverConfig' pointing at
;; `projmodel discover {arg}', so opening any .rs file of a GN, Bazel, Buck2 or Cargo monorepo
;; gives rust-analyzer that file's crates.  `projmodel-status', `projmodel-refresh' and
;; `projmodel-export' run the projmodel command (never through a shell).

;;; Code:

(require 'json)
(require 'seq)
(require 'subr-x)

(defvar eglot-server-programs)

(defgroup projmodel nil
  "rust-analyzer project model server."
  :group 'tools)

(defcustom projmodel-program "projmodel"
  "The projmodel executable."
  :type 'string)

(defconst projmodel-files-to-watch
  '(("gn" "BUILD.gn" ".gn")
    ("bazel" "BUILD" "BUILD.bazel" "MODULE.bazel" "WORKSPACE" "WORKSPACE.bazel")
    ("buck2" "BUCK" "TARGETS")
    ("cargo" "Cargo.toml"))
  "Build file names rust-analyzer watches, per build system.")

(defun projmodel--root (&optional dir)
  "The monorepo root above DIR.
The nearest directory with .projmodel.json, else one with a build-system marker."
  (let ((dir (or dir default-directory)))
    (or (locate-dominating-file dir ".projmodel.json")
        (seq-some (lambda (m) (locate-dominating-file dir m))
                  '(".gn" "MODULE.bazel" "WORKSPACE" "WORKSPACE.bazel" ".buckconfig")))))

(defun projmodel--build-systems (root)
  "Build systems used under ROOT, from its .projmodel.json or its markers."
  (let* ((file (expand-file-name ".projmodel.json" root))
         (config (and (file-readable-p file)
                      (json-parse-string (with-temp-buffer
                                           (insert-file-contents file)
                                           (buffer-string))
                                         :object-type 'alist)))
         (systems (delq nil (cons (alist-get 'build_system config)
                                  (mapcar (lambda (s) (alist-get 'build_system s))
                                          (alist-get 'subprojects config))))))
    (or (delete-dups systems)
        (cond ((file-exists-p (expand-file-name ".gn" root)) '("gn"))
              ((seq-some (lambda (m) (file-exists-p (expand-file-name m root)))
                         '("MODULE.bazel" "WORKSPACE" "WORKSPACE.bazel"))
               '("bazel"))
              ((file-exists-p (expand-file-name ".buckconfig" root)) '("buck2"))
              (t '("cargo"))))))

(defun projmodel-discover-config (&optional root)
  "The rust-analyzer `workspace.discoverConfig' value for ROOT.
A plist as eglot sends it: the command, its progress label and the
build files rust-analyzer watches for the root's build systems."
  (let* ((root (or root (projmodel--root) default-directory))
         (watch (delete-dups
                 (apply #'append
                        (mapcar (lambda (s) (cdr (assoc s projmodel-files-to-watch)))
                                (projmodel--build-systems root))))))
    (list :command (vector projmodel-program "discover" "{arg}")
          :progressLabel "projmodel"
          :filesToWatch (vconcat watch))))

(defun projmodel--eglot-contact (&rest _)
  "The eglot contact: rust-analyzer with projmodel as its discovery."
  `("rust-analyzer" :initializationOptions
    (:workspace (:discoverConfig ,(projmodel-discover-config)))))

;;;###autoload
(defun projmodel-eglot-setup ()
  "Make eglot start rust-analyzer with projmodel as its project discovery."
  (with-eval-after-load 'eglot
    (add-to-list 'eglot-server-programs
                 '((rust-mode rust-ts-mode) . projmodel--eglot-contact))))

(defun projmodel--run (&rest args)
  "Run projmodel with ARGS in the monorepo root.
Return its standard output; signal an error when it fails."
  (let ((default-directory (or (projmodel--root) default-directory)))
    (with-temp-buffer
      (let ((status (apply #'call-process projmodel-program nil (list t nil) nil args)))
        (unless (eq status 0)
          (error "projmodel %s failed (exit %s)" (string-join args " ") status))
        (buffer-string)))))

;;;###autoload
(defun projmodel-status ()
  "Show the projmodel daemon's status for this monorepo."
  (interactive)
  (message "%s" (string-trim (projmodel--run "status"))))

;;;###autoload
(defun projmodel-refresh ()
  "Ask the daemon to re-query the build system."
  (interactive)
  (projmodel--run "query" "projmodel/refresh")
  (message "projmodel: refresh requested"))

;;;###autoload
(defun projmodel-export (file)
  "Write the whole monorepo's rust-project.json to FILE."
  (interactive "FWrite rust-project.json to: ")
  (projmodel--run "export" "--output" (expand-file-name file))
  (message "projmodel: wrote %s" file))

(provide 'projmodel)
;;; projmodel.el ends here
