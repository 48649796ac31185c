;;; projmodel.el --- rust-analyzer project model for GN, Bazel, Buck2 and Cargo monorepos -*- lexical-binding: t; -*-

;; Version: 0.2.0
;; Package-Requires: ((emacs "28.1") (jsonrpc "1.0.14"))
;; Keywords: languages, tools
;; SPDX-License-Identifier: MIT

;;; Commentary:

;; Routes rust-analyzer's project discovery through the projmodel daemon and talks to that
;; daemon over its socket.  With eglot:
;;
;;   (require 'projmodel)
;;   (projmodel-eglot-setup)
;;   (global-projmodel-mode)
;;
;; `projmodel-eglot-setup' makes eglot start rust-analyzer with `workspace.discoverConfig'
;; pointing at `projmodel discover {arg}', so opening any .rs file of a GN, Bazel, Buck2 or
;; Cargo monorepo gives rust-analyzer that file's crates.
;;
;; `projmodel-mode' (turned on in every file of a monorepo by `global-projmodel-mode') connects
;; to the root's daemon with jsonrpc.el (starting it with `projmodel serve' when none runs),
;; subscribes to its notifications, shows its state in the mode line, and reports the build
;; file error of a failed refresh (a BUILD.gn syntax error, say) through Flymake at the file
;; and line the build tool named.  Commands: `projmodel-crate-info', `projmodel-show-graph'
;; (an SVG picture rendered by Graphviz when the frame shows SVG, else the DOT text),
;; `projmodel-status', `projmodel-refresh', `projmodel-export', `projmodel-stop'.
;;
;; When the daemon stops or is killed the mode line shows " PM:off"; the next command
;; reconnects, starting the daemon when none runs, and a timer
;; (`projmodel-reconnect-interval') re-attaches by itself once a daemon serves the root
;; again.  The protocol is docs/protocol.md; the projmodel command always runs with argv,
;; never through a shell.

;;; Code:

(require 'button)
(require 'cl-lib)
(require 'flymake)
(require 'json)
(require 'jsonrpc)
(require 'seq)
(require 'subr-x)

(defvar eglot-server-programs)
(defvar projmodel-mode)

(defgroup projmodel nil
  "rust-analyzer project model server."
  :group 'tools)

(defcustom projmodel-program "projmodel"
  "The projmodel executable."
  :type 'string)

(defcustom projmodel-socket nil
  "The daemon's socket, or nil for the one projmodel derives from the root."
  :type '(choice (const :tag "Derived from the root" nil) file))

(defcustom projmodel-dot-program "dot"
  "Graphviz's dot, which renders the dependency graph as SVG."
  :type 'string)

(defcustom projmodel-request-timeout 120
  "Seconds to wait for a daemon answer (a first refresh runs the build tool)."
  :type 'integer)

(defcustom projmodel-flymake t
  "Non-nil: `projmodel-mode' turns on `flymake-mode' so build file errors show."
  :type 'boolean)

(defcustom projmodel-reconnect-interval 5
  "Seconds between checks for a daemon to re-attach to, or nil for none.
When the daemon stops (`projmodel stop', killed, crashed) while buffers
of its monorepo are in `projmodel-mode', a timer runs `projmodel status'
(which starts nothing) this often and reconnects as soon as a daemon
serves the root again.  Independently of it, the next projmodel command
reconnects at once and starts the daemon when none runs."
  :type '(choice (const :tag "Never" nil) number))

(defcustom projmodel-events-buffer-size 100000
  "Characters of the JSON-RPC events buffer kept per connection; 0 keeps none."
  :type 'integer)

(defconst projmodel-files-to-watch
  '(("gn" "BUILD.gn" ".gn")
    ("bazel" "BUILD" "BUILD.bazel" "MODULE.bazel" "WORKSPACE" "WORKSPACE.bazel")
    ("buck2" "BUCK" "TARGETS")
    ("cargo" "Cargo.toml"))
  "Build file names rust-analyzer watches, per build system.")

(defun projmodel--cargo-root (dir)
  "The outermost directory holding a Cargo.toml above DIR, or nil."
  (let ((dir (expand-file-name dir)) found)
    (while (and dir (setq dir (locate-dominating-file dir "Cargo.toml")))
      (setq found dir)
      (let ((parent (file-name-directory (directory-file-name dir))))
        (setq dir (and (not (equal parent dir)) parent))))
    found))

(defun projmodel--root (&optional dir)
  "The monorepo root above DIR, as `projmodel' finds it (docs/cli.md).
The nearest directory with .projmodel.json, else one with a build-system
marker, else the outermost one with a Cargo.toml."
  (let ((dir (or dir default-directory)))
    (or (locate-dominating-file dir ".projmodel.json")
        (seq-some (lambda (m) (locate-dominating-file dir m))
                  '(".gn" "MODULE.bazel" "WORKSPACE" "WORKSPACE.bazel" ".buckconfig"))
        (projmodel--cargo-root dir))))

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

;;; Running the projmodel command

(defun projmodel--exec (program input args)
  "Run PROGRAM with ARGS (argv, no shell), INPUT (a string or nil) on stdin.
Return (STATUS STDOUT STDERR)."
  (let ((err (make-temp-file "projmodel-stderr")))
    (unwind-protect
        (with-temp-buffer
          (let* ((coding-system-for-read 'utf-8-unix)
                 (coding-system-for-write 'utf-8-unix)
                 (status (if input
                             (progn
                               (insert input)
                               (apply #'call-process-region (point-min) (point-max) program
                                      t (list t err) nil args))
                           (apply #'call-process program nil (list t err) nil args))))
            (list status (buffer-string)
                  (with-temp-buffer (insert-file-contents err) (buffer-string)))))
      (delete-file err))))

(defun projmodel--why (status stderr)
  "Why a command failed: the first line of STDERR, else its exit STATUS."
  (let ((line (car (split-string stderr "\n" t "[ \t]+"))))
    (or line (format "exit status %s" status))))

(defun projmodel--run (&rest args)
  "Run projmodel with ARGS in the monorepo root.
Return its standard output; signal an error with its message when it fails."
  (let ((default-directory (or (projmodel--root) default-directory)))
    (pcase-let ((`(,status ,out ,err) (projmodel--exec projmodel-program nil args)))
      (unless (eq status 0)
        (error "projmodel %s: %s" (car args) (projmodel--why status err)))
      out)))

;;; The connection to the daemon

(cl-defstruct (projmodel--daemon (:constructor projmodel--daemon-make (root))
                                 (:copier nil))
  "One daemon connection.  Its fields follow the daemon's notifications."
  root conn database
  (state "connecting")
  message crates error
  (diagnostics nil :documentation "(FILE LINE COL MESSAGE) of the last failed refresh,
or of the build files a partial one could not load.")
  (timer nil :documentation "The re-attach timer while the daemon is gone."))

(defvar projmodel--daemons (make-hash-table :test #'equal)
  "The daemon connections, by monorepo root (absolute, no trailing slash).")

(defvar-local projmodel--buffer-root nil
  "The monorepo root of this buffer, set by `projmodel-mode'.")

(defun projmodel--root-of (&optional file)
  "The absolute root (no trailing slash) of FILE or of this buffer.
Signal a `user-error' when there is none."
  (let* ((dir (if file (file-name-directory (expand-file-name file)) default-directory))
         (root (projmodel--root dir)))
    (unless root
      (user-error "projmodel: no monorepo root above %s" dir))
    (directory-file-name (expand-file-name root))))

(defun projmodel--start (root &optional attach)
  "Start the daemon of ROOT unless one runs, and return its status (a plist).
With ATTACH non-nil start nothing: signal an error when no daemon runs."
  (let* ((sock (and projmodel-socket (list "--socket" (expand-file-name projmodel-socket))))
         (serve (unless attach
                  (projmodel--exec projmodel-program nil `("--root" ,root "serve" ,@sock))))
         (status (projmodel--exec projmodel-program nil
                                  `("--root" ,root "status" "--json" ,@sock))))
    ;; serve exits 1 when a daemon already serves the root: only status says whether one runs.
    (unless (eq (car status) 0)
      (let ((failed (if (memq (car serve) '(nil 0)) status serve)))
        (error "projmodel: no daemon for %s: %s" root
               (projmodel--why (car failed) (nth 2 failed)))))
    (json-parse-string (nth 1 status) :object-type 'plist :null-object nil
                       :false-object :json-false)))

(defun projmodel--connect (root &optional d attach)
  "Connect to the daemon of ROOT, subscribe; return the `projmodel--daemon'.
D is the earlier connection of ROOT to reuse (buttons and timers keep
it), else a new one is made.  The daemon is started when none runs,
unless ATTACH is non-nil (then it is an error)."
  (let* ((status (projmodel--start root attach))
         (d (or d (projmodel--daemon-make root)))
         (name (format "projmodel %s" (abbreviate-file-name root)))
         (proc (make-network-process :name name :family 'local
                                     :service (plist-get status :socket)
                                     :coding 'utf-8-emacs-unix :noquery t))
         (conn (make-instance
                'jsonrpc-process-connection
                :name name :process proc
                :events-buffer-scrollback-size projmodel-events-buffer-size
                :notification-dispatcher
                (lambda (_conn method params) (projmodel--notification d method params))
                :on-shutdown (lambda (conn) (projmodel--disconnected d conn)))))
    (when (projmodel--daemon-timer d)
      (cancel-timer (projmodel--daemon-timer d)))
    (setf (projmodel--daemon-conn d) conn
          (projmodel--daemon-timer d) nil
          (projmodel--daemon-state d) "connecting"
          (projmodel--daemon-database d) (plist-get status :database))
    (puthash root d projmodel--daemons)
    ;; Subscribe first: no notification falls between the status and the subscription.
    (projmodel--request d 'projmodel/subscribe nil nil t)
    (projmodel--request d 'projmodel/status nil
                        (lambda (status) (projmodel--apply-status d status)) t)
    d))

(defun projmodel--daemon (root)
  "The live connection to the daemon of ROOT, connecting when there is none.
A daemon that stopped is started again through `projmodel serve'."
  (let ((d (gethash root projmodel--daemons)))
    (if (and d (jsonrpc-running-p (projmodel--daemon-conn d)))
        d
      (projmodel--connect root d))))

(defun projmodel--request (d method params &optional then once)
  "Send METHOD with PARAMS to daemon D and return its result.
THEN, when given, is called with the result as it arrives, in the order
of the daemon's messages: a status must be applied before the
notifications sent after it.  A JSON-RPC error is signalled as an `error'
with the daemon's message.  When D's daemon is gone, or goes away before
it answers, D reconnects (starting the daemon) and the request is sent
once more; ONCE non-nil sends it only on the current connection."
  ;; Not `jsonrpc-request': in jsonrpc.el 1.0.14 (Emacs 28) it returns by a throw out of the
  ;; process filter, which leaves the messages read with the reply unhandled until more bytes
  ;; arrive (the `$/progress' end that follows a status could wait forever).
  (unless (or once (jsonrpc-running-p (projmodel--daemon-conn d)))
    (projmodel--connect (projmodel--daemon-root d) d))
  (let ((conn (projmodel--daemon-conn d)) done result failure unsent)
    ;; Sending fails (EPIPE) when the daemon is gone but Emacs has not run the sentinel yet.
    (condition-case err
        (jsonrpc-async-request
         conn method params
         :timeout projmodel-request-timeout
         :success-fn (lambda (r)
                       (setq done t result r)
                       (when then (funcall then r)))
         :error-fn (lambda (e)
                     (setq done t failure (or (plist-get e :message) (format "%S" e))))
         :timeout-fn (lambda () (setq done t failure (format "%s timed out" method))))
      (error (setq done t unsent t failure (error-message-string err))))
    (while (not done)
      (accept-process-output nil 0.05))
    (cond ((not failure) result)
          ;; The daemon stopped under the request (jsonrpc.el calls it "Server died").
          ((and (not once) (or unsent (not (jsonrpc-running-p conn))))
           (when unsent
             (ignore-errors (jsonrpc-shutdown conn t)))
           (projmodel--connect (projmodel--daemon-root d) d)
           (projmodel--request d method params then t))
          (t (error "projmodel: %s" failure)))))

(defun projmodel--disconnected (d conn)
  "Daemon D closed the connection CONN (stopped, or killed).
The mode line says so, and a timer re-attaches when a daemon serves the
root again (`projmodel-reconnect-interval')."
  ;; A connection D replaced since says nothing about D.
  (when (eq conn (projmodel--daemon-conn d))
    (setf (projmodel--daemon-state d) "disconnected")
    (projmodel--set-error d nil nil)
    (when (and projmodel-reconnect-interval (not (projmodel--daemon-timer d)))
      (setf (projmodel--daemon-timer d)
            (run-with-timer projmodel-reconnect-interval projmodel-reconnect-interval
                            #'projmodel--reattach d)))
    (force-mode-line-update t)))

(defun projmodel--reattach (d)
  "Timer: reconnect D when a daemon serves its root again.
Starts no daemon.  Stops when D is connected, forgotten, or no buffer of
its root is in `projmodel-mode' any more."
  (let ((root (projmodel--daemon-root d)))
    (if (or (jsonrpc-running-p (projmodel--daemon-conn d))
            (not (eq (gethash root projmodel--daemons) d))
            (not (seq-some (lambda (b)
                             (with-current-buffer b
                               (and projmodel-mode (equal projmodel--buffer-root root))))
                           (buffer-list))))
        (progn (cancel-timer (projmodel--daemon-timer d))
               (setf (projmodel--daemon-timer d) nil))
      (ignore-errors (projmodel--connect root d t)))))

(defun projmodel--apply-status (d status)
  "Update D from a `projmodel/status' result STATUS."
  (let ((failed (eq (plist-get (plist-get status :lastRefresh) :ok) :json-false)))
    (setf (projmodel--daemon-state d) (plist-get status :state)
          (projmodel--daemon-crates d) (plist-get status :crates))
    (projmodel--set-error d (and failed (plist-get status :lastError))
                          (and failed (plist-get status :lastErrorOutput))
                          (and (not failed) (plist-get status :warnings)))
    (force-mode-line-update t)))

(defun projmodel--notification (d method params)
  "Handle notification METHOD with PARAMS from daemon D (docs/protocol.md)."
  (pcase method
    ('$/progress
     (let* ((value (plist-get params :value))
            (message (plist-get value :message)))
       (setf (projmodel--daemon-message d) message)
       (pcase (plist-get value :kind)
         ("begin" (setf (projmodel--daemon-state d) "refreshing"))
         ("end"
          (setf (projmodel--daemon-state d) "idle")
          ;; A failed refresh ends with "failed", then projmodel/refreshFailed follows.
          (when (and message (string-match "\\([0-9]+\\) crates" message))
            (setf (projmodel--daemon-crates d) (string-to-number (match-string 1 message)))
            (projmodel--set-error d nil nil)
            ;; A partial refresh names the build files it could not load in its warnings.
            (jsonrpc-async-request (projmodel--daemon-conn d) 'projmodel/status nil
                                   :success-fn (lambda (st) (projmodel--apply-status d st))
                                   :error-fn #'ignore :timeout-fn #'ignore))))))
    ('projmodel/refreshFailed
     (setf (projmodel--daemon-state d) "idle")
     (projmodel--set-error d (plist-get params :error) (plist-get params :output))))
  (force-mode-line-update t))

;;; Build file errors

(defun projmodel--error-before (text pos)
  "The MESSAGE of the last \"error: MESSAGE\" line of TEXT before POS, or nil.
Cargo and starlark (Buck2) print it above their \" --> FILE:LINE:COL\" line,
indented and numbered \"N: \" when it is one of several causes."
  (let ((case-fold-search nil) (start 0) found)
    (while (and (string-match "^[ \t]*\\(?:[0-9]+: \\)?error: \\(.*\\)$" text start)
                (< (match-beginning 0) pos))
      (setq found (match-string 1 text) start (match-end 0)))
    found))

(defun projmodel--parse-error (error output root)
  "The (FILE LINE COL MESSAGE) diagnostics a failed refresh's ERROR names.
ERROR is the daemon's one line, OUTPUT the tool's output.  Relative names
are resolved against the directory the tool was given (GN's --root=DIR,
Cargo's --manifest-path FILE), else the failed project's root (ERROR
starts with its id, build system and directory, when ROOT has several
projects), else ROOT."
  (let* ((output (or output ""))
         (base (cond ((string-match "--root=\\([^ ']+\\)" error) (match-string 1 error))
                     ((string-match "--manifest-path \\([^ ']+\\)" error)
                      (file-name-directory (match-string 1 error)))
                     ((string-match "\\`project '[^':]+:\\([^']+\\)': " error)
                      (expand-file-name (match-string 1 error) root))
                     (t root)))
         (arrow "^ *--> \\([^:\n]+\\):\\([0-9]+\\):\\([0-9]+\\)$")
         (diag (lambda (text file message)
                 (list (list (expand-file-name (match-string file text) base)
                             (string-to-number (match-string (1+ file) text))
                             (string-to-number (match-string (+ 2 file) text))
                             message)))))
    (cond
     ;; GN: ERROR at //lib/util/BUILD.gn:23:18: Expected comma between items.
     ((cl-loop for text in (list error output)
               thereis (and (string-match "ERROR at //\\([^:\n]+\\):\\([0-9]+\\):\\([0-9]+\\): \\(.*\\)"
                                          text)
                            (funcall diag text 1 (match-string 4 text)))))
     ;; Cargo: "error: invalid basic string" then " --> Cargo.toml:3:17" in OUTPUT; Buck2's
     ;; starlark the same, indented under "Caused by:", FILE relative to the project root
     ;; (docs/build-integration.md, "Partial results").
     ((let ((at (string-match arrow output)))
        (when at
          (let ((message (or (projmodel--error-before output at)
                             (if (string-match "error: \\(.*\\)" error)
                                 (match-string 1 error)
                               error))))
            (string-match arrow output)
            (funcall diag output 1 message)))))
     ;; An absolute name with line and column (Bazel: ERROR: /repo/BUILD.bazel:3:5: ...).
     ((cl-loop for text in (list error output)
               thereis (and (string-match "\\(/[^:\n' ]+\\):\\([0-9]+\\):\\([0-9]+\\): \\(.*\\)" text)
                            (funcall diag text 1 (match-string 4 text))))))))

(defun projmodel--parse-warnings (warnings)
  "The (FILE LINE COL MESSAGE) diagnostics among the WARNINGS of a status.
Bazel and Buck2 run with --keep_going (--keep-going): a build file they
cannot load leaves the refresh partial, its crates as they were, and the
warning names the file, line and column of the error
\(docs/build-integration.md, \"Partial results\")."
  (cl-loop for w in (append warnings nil)
           for text = (or (plist-get w :message) "")
           when (string-match (concat "\\`\\(/[^:\n]+\\):\\([0-9]+\\):\\([0-9]+\\): \\(.*?\\)"
                                      "\\(?: (\\(?:bazel could not load it with --keep_going\\|"
                                      "buck2 could not load it with --keep-going\\))\\)?\\'")
                              text)
           collect (list (match-string 1 text) (string-to-number (match-string 2 text))
                         (string-to-number (match-string 3 text)) (match-string 4 text))))

(defun projmodel--set-error (d error output &optional warnings)
  "Record the refresh ERROR of D (nil: it succeeded) and the tool's OUTPUT.
Without ERROR, the build file errors among the status WARNINGS (a partial
refresh) are the diagnostics.  Re-run Flymake in the buffers of D's root
when its diagnostics change."
  (let ((diags (if error
                   (projmodel--parse-error error output (projmodel--daemon-root d))
                 (projmodel--parse-warnings warnings))))
    (setf (projmodel--daemon-error d) error)
    (unless (equal diags (projmodel--daemon-diagnostics d))
      (setf (projmodel--daemon-diagnostics d) diags)
      (dolist (buf (buffer-list))
        (with-current-buffer buf
          (when (and projmodel-mode (bound-and-true-p flymake-mode)
                     (equal projmodel--buffer-root (projmodel--daemon-root d)))
            (flymake-start)))))))

(defun projmodel-flymake (report-fn &rest _)
  "Flymake backend: the build file errors of the daemon's last refresh.
Call REPORT-FN with the diagnostics that name this buffer's file."
  (let ((d (and projmodel--buffer-root (gethash projmodel--buffer-root projmodel--daemons)))
        (file buffer-file-name))
    (funcall report-fn
             (cl-loop
              for (f line col message) in (and d file (projmodel--daemon-diagnostics d))
              when (file-equal-p f file)
              collect (let ((region (or (flymake-diag-region (current-buffer) line col)
                                        (cons (point-min) (min (point-max) (1+ (point-min)))))))
                        (flymake-make-diagnostic (current-buffer) (car region) (cdr region)
                                                 :error message))))))

;;; The mode line

(defun projmodel--lighter ()
  "The mode-line text of this buffer's daemon: state, or crate count when idle."
  (let* ((d (and projmodel--buffer-root (gethash projmodel--buffer-root projmodel--daemons)))
         (state (if d (projmodel--daemon-state d) "off"))
         (text (cond ((null d) "off")
                     ((equal state "disconnected") "off")
                     ((projmodel--daemon-error d) "error")
                     ((equal state "idle") (format "%s" (projmodel--daemon-crates d)))
                     (t state))))
    (propertize (concat " PM:" text)
                'help-echo (if d
                               (format "projmodel: %s%s\nmouse-1: status" state
                                       (cond ((equal state "disconnected")
                                              (concat ": the daemon stopped; the next"
                                                      " command starts it again"))
                                             ((projmodel--daemon-error d)
                                              (concat "\n" (projmodel--daemon-error d)))
                                             ((equal state "refreshing")
                                              (concat ", " (projmodel--daemon-message d)))
                                             (t "")))
                             "projmodel: not connected")
                'mouse-face 'mode-line-highlight
                'local-map (make-mode-line-mouse-map 'mouse-1 #'projmodel-status))))

;;;###autoload
(define-minor-mode projmodel-mode
  "Follow the projmodel daemon: its state in the mode line, build file errors.
Connects to the daemon of the buffer's monorepo (starting it when none
runs), shows its state in the mode line (the crate count when idle), and
adds a Flymake backend reporting the error of a failed refresh at the
build file and line the build tool named."
  :lighter (:eval (projmodel--lighter))
  :group 'projmodel
  (cond
   (projmodel-mode
    (setq projmodel--buffer-root
          (ignore-errors (projmodel--root-of buffer-file-name)))
    (add-hook 'flymake-diagnostic-functions #'projmodel-flymake nil t)
    (when projmodel--buffer-root
      (condition-case err
          (projmodel--daemon projmodel--buffer-root)
        (error (message "%s" (error-message-string err)))))
    (when (and projmodel-flymake (not (bound-and-true-p flymake-mode)))
      ;; Flymake's legacy backend (global by default) knows no build file: in the buffers
      ;; where this mode turns Flymake on it would only fail with a warning.
      (setq-local flymake-diagnostic-functions
                  (remq 'flymake-proc-legacy-flymake
                        (append (remq t flymake-diagnostic-functions)
                                (default-value 'flymake-diagnostic-functions))))
      (flymake-mode 1)))
   (t (remove-hook 'flymake-diagnostic-functions #'projmodel-flymake t))))

(defun projmodel--turn-on ()
  "Turn on `projmodel-mode' in a file buffer under a monorepo root."
  (when (and buffer-file-name (projmodel--root))
    (projmodel-mode 1)))

;;;###autoload
(define-globalized-minor-mode global-projmodel-mode projmodel-mode projmodel--turn-on
  :group 'projmodel)

;;; Commands

(defun projmodel--this-daemon (&optional file)
  "The daemon of FILE's (or this buffer's) monorepo, connected."
  (projmodel--daemon (projmodel--root-of (or file buffer-file-name))))

(defun projmodel--file-crates (d file)
  "The labels of the crates owning FILE, from daemon D; signal when none does."
  (let ((labels (append (plist-get (projmodel--request d 'projmodel/crateForFile
                                                       (list :path (expand-file-name file)))
                                   :crates)
                        nil)))
    (unless labels
      (user-error "projmodel: no crate owns %s" file))
    labels))

(define-derived-mode projmodel-info-mode special-mode "projmodel"
  "The crates of a file, as the projmodel daemon knows them.")

(defun projmodel--insert-file-button (file)
  "Insert FILE as a button that visits it."
  (insert-text-button file 'action (lambda (_) (find-file file)) 'follow-link t
                      'help-echo "visit this file"))

(defun projmodel--insert-crate (d crate)
  "Insert CRATE (a `projmodel/crate' result) of daemon D."
  (let ((field (lambda (name value)
                 (when value (insert (format "  %-17s %s\n" (concat name ":") value))))))
    (insert (propertize (plist-get crate :label) 'face 'bold) "\n")
    (funcall field "kind" (plist-get crate :kind))
    (funcall field "edition" (plist-get crate :edition))
    (funcall field "crate name" (plist-get crate :crateName))
    (funcall field "build system" (plist-get crate :buildSystem))
    (funcall field "target" (plist-get crate :target))
    (funcall field "workspace member"
             (if (eq (plist-get crate :isWorkspaceMember) t) "yes" "no"))
    (dolist (f '(("root module" . :rootModule) ("build file" . :buildFile)
                 ("proc-macro dylib" . :procMacroDylib)))
      (when-let ((file (plist-get crate (cdr f))))
        (insert (format "  %-17s " (concat (car f) ":")))
        (projmodel--insert-file-button file)
        (insert "\n")))
    (funcall field "cfgs" (let ((cfgs (plist-get crate :cfgs)))
                            (if (seq-empty-p cfgs) "none" (string-join cfgs ", "))))
    (funcall field "note" (plist-get crate :note))
    (insert (format "  %-17s" "deps:") (if (seq-empty-p (plist-get crate :deps)) " none" "") "\n")
    (seq-doseq (dep (plist-get crate :deps))
      (let ((label (plist-get dep :label)))
        (insert "    ")
        (when-let ((rename (plist-get dep :name)))
          (insert rename " -> "))
        (insert-text-button label 'follow-link t 'help-echo "show this crate"
                            'action (lambda (_) (projmodel--show-crates d (list label))))
        (insert "\n")))
    (insert "\n")))

(defun projmodel--show-crates (d labels)
  "Show the crates LABELS of daemon D in *projmodel crate*; return the buffer."
  (let ((crates (mapcar (lambda (l) (projmodel--request d 'projmodel/crate (list :label l)))
                        labels))
        (buf (get-buffer-create "*projmodel crate*")))
    (with-current-buffer buf
      (let ((inhibit-read-only t))
        (erase-buffer)
        (projmodel-info-mode)
        (dolist (c crates) (projmodel--insert-crate d c))
        (goto-char (point-min))))
    (display-buffer buf)
    buf))

;;;###autoload
(defun projmodel-crate-info (&optional file)
  "Show the crate(s) owning FILE (default: this buffer's file).
Label, kind, edition, cfgs, dependencies (with their renames) and build
file, with buttons to visit files and dependencies.  Return the buffer."
  (interactive)
  (let* ((file (or file buffer-file-name (user-error "projmodel: this buffer visits no file")))
         (d (projmodel--this-daemon file)))
    (projmodel--show-crates d (projmodel--file-crates d file))))

(defun projmodel--graph-dot (d labels)
  "The DOT text of LABELS and their dependency closure in daemon D's model."
  (let ((all (copy-sequence labels)))
    (dolist (l labels)
      (setq all (append all (plist-get (projmodel--request d 'projmodel/deps
                                                           (list :label l :transitive t))
                                       :labels)
                        nil)))
    (let ((default-directory (file-name-as-directory (projmodel--daemon-root d))))
      (apply #'projmodel--run "dump" "--root" (projmodel--daemon-root d) "--no-refresh"
             `(,@(when-let ((db (projmodel--daemon-database d))) (list "--db" db))
               "--format" "dot" ,@(delete-dups all))))))

(defun projmodel--dot-to-svg (dot)
  "Render DOT with Graphviz; return the SVG text."
  (pcase-let ((`(,status ,out ,err) (projmodel--exec projmodel-dot-program dot '("-Tsvg"))))
    (unless (eq status 0)
      (error "projmodel: %s -Tsvg: %s" projmodel-dot-program (projmodel--why status err)))
    out))

(defun projmodel--svg-p (&optional frame)
  "Non-nil when FRAME (default: the selected frame) can show an SVG image.
It takes an Emacs built with librsvg (Debian's emacs-gtk or emacs-lucid,
not emacs-nox) and a graphical frame: a text terminal shows no image."
  (and (image-type-available-p 'svg) (display-images-p frame)))

;;;###autoload
(defun projmodel-show-graph (&optional file)
  "Show the dependency graph of the crates owning FILE (default: this buffer's).
The crates and their dependency closure, from `projmodel dump --format
dot' on the daemon's model, in *projmodel graph*: a picture rendered by
Graphviz (`projmodel-dot-program' -Tsvg) when the selected frame can show
SVG (`projmodel--svg-p'), else the DOT text.  Return the buffer."
  (interactive)
  (let* ((file (or file buffer-file-name (user-error "projmodel: this buffer visits no file")))
         (d (projmodel--this-daemon file))
         (dot (projmodel--graph-dot d (projmodel--file-crates d file)))
         (svg (and (projmodel--svg-p) (projmodel--dot-to-svg dot)))
         (buf (get-buffer-create "*projmodel graph*")))
    (with-current-buffer buf
      (let ((inhibit-read-only t))
        (erase-buffer)
        (projmodel-info-mode)
        (if svg
            (insert-image (create-image svg 'svg t) "[dependency graph]")
          (insert dot))
        (goto-char (point-min))))
    (display-buffer buf)
    buf))

;;;###autoload
(defun projmodel-status ()
  "Show the projmodel daemon's state for this monorepo."
  (interactive)
  (let* ((d (projmodel--this-daemon))
         (status (projmodel--request d 'projmodel/status nil
                                     (lambda (status) (projmodel--apply-status d status)))))
    (message "projmodel %s: %s, %s crates, generation %s%s"
             (abbreviate-file-name (projmodel--daemon-root d))
             (plist-get status :state) (plist-get status :crates)
             (plist-get status :generation)
             (if-let ((e (projmodel--daemon-error d))) (concat "; last refresh failed: " e) ""))))

;;;###autoload
(defun projmodel-refresh ()
  "Ask the daemon to re-query the build system; report the outcome at the end."
  (interactive)
  (let ((d (projmodel--this-daemon)))
    (jsonrpc-async-request
     (projmodel--daemon-conn d) 'projmodel/refresh nil
     :timeout projmodel-request-timeout
     :success-fn (lambda (r)
                   (message "projmodel: refreshed, generation %s, %s crates (%s ms)"
                            (plist-get r :generation) (plist-get r :crates)
                            (plist-get r :durationMs)))
     :error-fn (lambda (e) (message "projmodel: refresh failed: %s" (plist-get e :message)))
     :timeout-fn (lambda () (message "projmodel: refresh timed out")))
    (message "projmodel: refresh requested")))

;;;###autoload
(defun projmodel-export (file)
  "Write the whole monorepo's rust-project.json to FILE."
  (interactive
   (list (read-file-name "Write rust-project.json to: "
                         (projmodel--root) nil nil "rust-project.json")))
  (projmodel--run "export" "--output" (expand-file-name file))
  (message "projmodel: wrote %s" file))

(defconst projmodel--stop-wait 60
  "Seconds `projmodel-stop' waits for the daemon's process to exit.")

(defun projmodel--process-running-p (pid)
  "Whether process PID runs: a zombie has exited."
  (let ((state (cdr (assq 'state (process-attributes pid)))))
    (and state (not (equal state "Z")))))

;;;###autoload
(defun projmodel-stop (&optional root)
  "Stop the daemon of ROOT (default: this buffer's monorepo).
It is sent `shutdown' then `exit' (docs/protocol.md), and this returns once
its process has exited.  None is started to be stopped; the next projmodel
command starts one again."
  (interactive)
  (let* ((root (or root (projmodel--root-of buffer-file-name)))
         (d (gethash root projmodel--daemons)))
    (unless (and d (jsonrpc-running-p (projmodel--daemon-conn d)))
      (setq d (ignore-errors (projmodel--connect root d t))))
    (if (not d)
        (message "projmodel: no daemon serves %s" (abbreviate-file-name root))
      (let ((pid (plist-get (projmodel--request d 'projmodel/status nil nil t) :pid))
            (deadline (+ (float-time) projmodel--stop-wait)))
        (projmodel--request d 'shutdown nil nil t)
        (jsonrpc-notify (projmodel--daemon-conn d) 'exit nil)
        ;; Until the process is gone, as `projmodel stop' waits (docs/cli.md, "`stop`"): the
        ;; daemon still kills its build tools and closes the model after the connection, and
        ;; the next daemon, or a removed cache, must not meet it.
        (while (and pid (projmodel--process-running-p pid) (< (float-time) deadline))
          (accept-process-output nil 0.05))
        (if (and pid (projmodel--process-running-p pid))
            (message "projmodel: the daemon of %s (pid %d) has not exited %d s after exit"
                     (abbreviate-file-name root) pid projmodel--stop-wait)
          (message "projmodel: stopped the daemon of %s" (abbreviate-file-name root)))))))

(provide 'projmodel)
;;; projmodel.el ends here
