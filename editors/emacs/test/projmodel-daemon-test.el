;;; projmodel-daemon-test.el --- ERT tests of projmodel.el against the real daemon -*- lexical-binding: t; -*-

;;; Commentary:

;; Run by meson in emacs --batch (test emacs-ert-daemon) with PM_PROJMODEL naming the built
;; projmodel binary and PM_SOURCE_ROOT the source tree.  Each test copies
;; examples/gn-monorepo (examples/bazel-monorepo, or writes a small Cargo package) to a temporary directory, points XDG_RUNTIME_DIR and XDG_CACHE_HOME
;; there (so its daemon, socket and model are its own), connects through `projmodel-mode'
;; (which starts the daemon with `projmodel serve') and stops the daemon at the end.  Waits
;; are on conditions, with a deadline: `projmodel-test--wait'.

;;; Code:

(require 'ert)
(require 'flymake)
(require 'projmodel)

(defconst projmodel-test--timeout 30
  "Seconds a condition may take before the test fails.")

(defun projmodel-test--env (name)
  "The value of environment variable NAME, which meson sets; fail when it is unset."
  (or (getenv name) (error "%s is not set (run this test through meson)" name)))

(defun projmodel-test--wait (what pred)
  "Process events until PRED returns non-nil; fail naming WHAT after the deadline."
  (let ((deadline (+ (float-time) projmodel-test--timeout)))
    (while (and (not (funcall pred)) (< (float-time) deadline))
      (accept-process-output nil 0.05))
    (or (funcall pred) (ert-fail (format "timed out waiting for %s" what)))))

(defmacro projmodel-test--with-daemon (source &rest body)
  "Run BODY with `repo' bound to a fresh monorepo (absolute, no trailing slash).
SOURCE is a directory of the source tree to copy, or a list of (NAME . CONTENTS).
The daemon BODY starts is stopped afterwards and its buffers are killed."
  (declare (indent 1))
  `(let* ((source ,source)
          (tmp (file-name-as-directory (make-temp-file "projmodel-daemon-test" t)))
          (repo (expand-file-name "repo" tmp))
          (process-environment
           (append (list (concat "XDG_RUNTIME_DIR=" (expand-file-name "run" tmp))
                         (concat "XDG_CACHE_HOME=" (expand-file-name "cache" tmp))
                         (concat "XDG_CONFIG_HOME=" (expand-file-name "config" tmp)))
                   process-environment))
          (projmodel-program (projmodel-test--env "PM_PROJMODEL"))
          (projmodel-socket nil)
          (kill-buffer-query-functions nil))
     (make-directory (expand-file-name "run" tmp))
     (set-file-modes (expand-file-name "run" tmp) #o700)
     (if (stringp source)
         (copy-directory (expand-file-name source (projmodel-test--env "PM_SOURCE_ROOT"))
                         repo nil nil t)
       (dolist (f source)
         (let ((path (expand-file-name (car f) repo)))
           (make-directory (file-name-directory path) t)
           (with-temp-file path (insert (cdr f))))))
     (unwind-protect
         (progn ,@body)
       (let ((d (gethash repo projmodel--daemons)))
         (when (and d (jsonrpc-running-p (projmodel--daemon-conn d)))
           (projmodel-stop repo)
           (projmodel-test--wait "the daemon to close the connection"
                                 (lambda () (not (jsonrpc-running-p
                                                  (projmodel--daemon-conn d))))))
         (remhash repo projmodel--daemons))
       (dolist (b (buffer-list))
         (when (and (buffer-file-name b) (string-prefix-p tmp (buffer-file-name b)))
           (kill-buffer b)))
       (delete-directory tmp t))))

(defun projmodel-test--visit (file)
  "Visit FILE with `projmodel-mode' on; return its buffer."
  (with-current-buffer (find-file-noselect file)
    (projmodel-mode 1)
    (current-buffer)))

(defun projmodel-test--daemon (repo)
  "The connection to REPO's daemon once its first refresh has ended."
  (let ((d (gethash repo projmodel--daemons)))
    (should d)
    (condition-case err
        (projmodel-test--wait "the first refresh"
                              (lambda () (and (equal (projmodel--daemon-state d) "idle")
                                              (projmodel--daemon-crates d))))
      (ert-test-failed
       ;; Say what the connection saw and what the daemon says, for the log.
       (message "connection: %S" d)
       (message "events: %s" (with-current-buffer (jsonrpc-events-buffer
                                                   (projmodel--daemon-conn d))
                               (buffer-string)))
       (message "daemon status: %S"
                (ignore-errors (projmodel--request d 'projmodel/status nil)))
       (dolist (log (directory-files (expand-file-name "../cache/projmodel" repo) t "\\.log\\'"))
         (message "%s:\n%s" log (with-temp-buffer (insert-file-contents log) (buffer-string))))
       (signal (car err) (cdr err))))
    ;; The first refresh succeeded (else this is its error).
    (should (equal (projmodel--daemon-error d) nil))
    d))

(ert-deftest projmodel-daemon-crate-info ()
  (projmodel-test--with-daemon "examples/gn-monorepo"
    (with-current-buffer (projmodel-test--visit (expand-file-name "lib/engine/src/lib.rs" repo))
      (projmodel-test--daemon repo)
      ;; The mode line: the crate count of the example, once idle.
      (should (equal (substring-no-properties (projmodel--lighter)) " PM:10"))
      (let ((text (with-current-buffer (projmodel-crate-info) (buffer-string))))
        (should (string-prefix-p "//lib/engine:engine\n" text))
        (dolist (line '("  kind:             lib\n"
                        "  edition:          2021\n"
                        "  cfgs:             feature=\"extra\", debug_assertions\n"
                        "    //lib/config:config\n"
                        "    utils2 -> //lib/util:util\n"
                        "    //lib/describe_derive:describe_derive(//build/toolchain:host)\n"))
          (should (string-search line text)))
        (should (string-search (concat "  build file:       "
                                       (expand-file-name "lib/engine/BUILD.gn" repo) "\n")
                               text)))
      ;; The build file is a button that visits it.
      (with-current-buffer "*projmodel crate*"
        (goto-char (point-min))
        (search-forward "build file:")
        (let ((button (next-button (point))))
          (should button)
          (should (equal (button-label button) (expand-file-name "lib/engine/BUILD.gn" repo)))))
      ;; A file no crate owns is a user error naming it.
      (let ((err (should-error (projmodel-crate-info (expand-file-name "README.md" repo))
                               :type 'user-error)))
        (should (string-search "no crate owns" (cadr err)))))))

(ert-deftest projmodel-daemon-show-graph ()
  (projmodel-test--with-daemon "examples/gn-monorepo"
    (with-current-buffer (projmodel-test--visit (expand-file-name "lib/util/src/lib.rs" repo))
      (projmodel-test--daemon repo)
      ;; This Emacs has SVG (emacs-gtk) but the batch frame is a text terminal, which shows
      ;; no image: the buffer holds the DOT text of the crate and its closure.
      (should (image-type-available-p 'svg))
      (should-not (display-images-p))
      (should-not (projmodel--svg-p))
      (let ((dot (with-current-buffer (projmodel-show-graph) (buffer-string))))
        (should (string-prefix-p "digraph projmodel {" dot))
        (should (string-search "\"//lib/util:util\" -> \"//third_party/fnv:fnv\";" dot))
        (should (string-search
                 "\"//third_party/fnv:fnv\" -> \"//third_party/itoa_lite:itoa_lite\";" dot))
        (should-not (string-search "//lib/engine:engine" dot)))
      (should (string-search ": idle, 10 crates, generation 1" (projmodel-status)))
      ;; projmodel-export writes the whole monorepo's rust-project.json.
      (let ((out (expand-file-name "rust-project.json" tmp)))
        (projmodel-export out)
        (should (= (length (alist-get 'crates (json-read-file out))) 10))))))

(defun projmodel-test--xvfb ()
  "Start Xvfb on a free display; return (PROCESS . DISPLAY).
Emacs must run with SIGIO ignored (meson runs it under `env
--ignore-signal=IO'): in --batch it installs no SIGIO handler, and the
X connection's SIGIO would kill it."
  (let* ((xvfb (or (executable-find "Xvfb")
                   (ert-fail "Xvfb is not on PATH (scripts/setup.sh installs xvfb)")))
         (out "")
         (proc (make-process :name "Xvfb" :noquery t :connection-type 'pipe
                             :command (list xvfb "-displayfd" "1" "-nolisten" "tcp" "-noreset"
                                            "-screen" "0" "1024x768x24")
                             :stderr (get-buffer-create " *Xvfb*")
                             :filter (lambda (_proc text) (setq out (concat out text))))))
    ;; -displayfd 1: Xvfb picks a free display and prints its number.
    (projmodel-test--wait "Xvfb's display number"
                          (lambda () (string-match-p "\\`[0-9]+\n" out)))
    ;; GTK ends Emacs when the first display it opens fails: make sure the server answers on
    ;; its socket first (-noreset: else the probe, its last client, leaving would reset the
    ;; server while Emacs connects, and the connection failed one run in three).
    (let ((socket (format "/tmp/.X11-unix/X%s" (string-trim out))))
      (projmodel-test--wait (concat "Xvfb to listen on " socket)
                            (lambda ()
                              (when-let ((probe (ignore-errors
                                                  (make-network-process
                                                   :name "X probe" :family 'local
                                                   :service socket :noquery t))))
                                (delete-process probe)
                                t))))
    (cons proc (concat ":" (string-trim out)))))

(defun projmodel-test--stop-xvfb (proc)
  "Stop Xvfb PROC with SIGTERM, so it removes its lock file and socket."
  (signal-process proc 'TERM)
  (projmodel-test--wait "Xvfb to exit" (lambda () (not (process-live-p proc)))))

(ert-deftest projmodel-daemon-show-graph-svg ()
  ;; Debian's emacs-gtk is built with librsvg (scripts/setup.sh installs it, not emacs-nox).
  (should (image-type-available-p 'svg))
  (projmodel-test--with-daemon "examples/gn-monorepo"
    (with-current-buffer (projmodel-test--visit (expand-file-name "lib/util/src/lib.rs" repo))
      (projmodel-test--daemon repo)
      (let ((x (projmodel-test--xvfb)) frame)
        (unwind-protect
            (progn
              ;; A graphical frame on the X server: there SVG is shown as a picture.
              (setq frame (make-frame-on-display (cdr x) '((visibility . nil))))
              (should (display-images-p frame))
              (with-selected-frame frame
                (should (projmodel--svg-p))
                (with-current-buffer (projmodel-show-graph)
                  (should (equal (buffer-string) "[dependency graph]"))
                  (let* ((image (get-text-property (point-min) 'display))
                         (data (image-property image :data)))
                    (should (eq (car-safe image) 'image))
                    (should (eq (image-property image :type) 'svg))
                    ;; Graphviz's SVG of the crate and its closure, and nothing else.
                    (should (string-search "<svg" data))
                    (dolist (label '("//lib/util:util" "//third_party/fnv:fnv"
                                     "//third_party/itoa_lite:itoa_lite"))
                      (should (string-search (concat ">" label "</text>") data)))
                    (should-not (string-search "//lib/engine:engine" data))
                    ;; librsvg renders it in that frame: a picture with the width and
                    ;; height Graphviz declared (in pt, so compare their ratio).
                    (let ((declared
                           (and (string-match
                                 "<svg width=\"\\([0-9.]+\\)pt\" height=\"\\([0-9.]+\\)pt\"" data)
                                (/ (float (string-to-number (match-string 1 data)))
                                   (string-to-number (match-string 2 data)))))
                          (size (image-size image t frame)))
                      (should declared)
                      (should (> (cdr size) 20))
                      (should (< (abs (- (/ (float (car size)) (cdr size)) declared))
                                 (* 0.05 declared))))))))
          ;; Closed before the daemon stops: while the X connection is open, --batch Emacs
          ;; does not run the connection's sentinel.
          (when (frame-live-p frame)
            (delete-frame frame t))
          (when (member (cdr x) (x-display-list))
            (x-close-connection (cdr x)))
          (projmodel-test--stop-xvfb (car x)))))))

(ert-deftest projmodel-daemon-reconnect ()
  (projmodel-test--with-daemon "examples/gn-monorepo"
    (with-current-buffer (projmodel-test--visit (expand-file-name "lib/engine/src/lib.rs" repo))
      (let* ((d (projmodel-test--daemon repo))
             (projmodel-reconnect-interval 0.2)
             (cli (lambda (&rest args)
                    (car (projmodel--exec projmodel-program nil `("--root" ,repo ,@args)))))
             (off (lambda () (equal (substring-no-properties (projmodel--lighter)) " PM:off")))
             (back (lambda () (and (jsonrpc-running-p (projmodel--daemon-conn d))
                                   (equal (substring-no-properties (projmodel--lighter))
                                          " PM:10")))))
        ;; `projmodel stop' from a shell: the mode line shows the daemon is gone.
        (should (eq (funcall cli "stop") 0))
        (projmodel-test--wait "the mode line to show the daemon stopped" off)
        (should (string-search "the daemon stopped"
                               (get-text-property 0 'help-echo (projmodel--lighter))))
        ;; The re-attach timer starts no daemon.
        (should (projmodel--daemon-timer d))
        (projmodel--reattach d)
        (should (funcall off))
        (should-not (eq (funcall cli "status") 0))
        ;; The next command starts it again and answers.
        (should (string-prefix-p "//lib/engine:engine\n"
                                 (with-current-buffer (projmodel-crate-info) (buffer-string))))
        (should (eq (funcall cli "status") 0))
        (should-not (projmodel--daemon-timer d))
        (projmodel-test--wait "the mode line to show the restarted daemon" back)
        ;; Killed: noticed too; once a daemon serves the root again (started here by
        ;; `projmodel serve'), the timer re-attaches with no command from the user.
        (signal-process (plist-get (projmodel--request d 'projmodel/status nil) :pid) 'KILL)
        (projmodel-test--wait "the mode line to show the daemon was killed" off)
        (should (eq (funcall cli "serve") 0))
        (projmodel-test--wait "the timer to re-attach" back)
        (should (string-prefix-p "//lib/engine:engine\n"
                                 (with-current-buffer (projmodel-crate-info) (buffer-string))))
        ;; Killed, and a command before Emacs has seen the connection close: the request
        ;; fails on the dead connection, which is replaced, and is sent once more.
        (let ((pid (plist-get (projmodel--request d 'projmodel/status nil) :pid)))
          (signal-process pid 'KILL)
          ;; No event processing meanwhile (it would run the sentinel): poll /proc.
          (while (let ((state (cdr (assq 'state (process-attributes pid)))))
                   (and state (not (equal state "Z")))))
          (should (jsonrpc-running-p (projmodel--daemon-conn d)))
          (should (string-prefix-p "//lib/engine:engine\n"
                                   (with-current-buffer (projmodel-crate-info)
                                     (buffer-string))))
          (should-not (equal pid (plist-get (projmodel--request d 'projmodel/status nil)
                                            :pid))))
        ;; Stopped from Emacs, which returns once the process is gone; the next command starts
        ;; it again.
        (let ((pid (plist-get (projmodel--request d 'projmodel/status nil) :pid)))
          (projmodel-stop repo)
          (should-not (projmodel--process-running-p pid)))
        (projmodel-test--wait "the mode line to show the daemon stopped" off)
        (should (string-search ", 10 crates, " (projmodel-status)))))))

;; A daemon systemd starts on the unit's socket (docs/protocol.md, "systemd socket
;; activation"; systemd-socket-activate passes the socket as systemd does): `projmodel--start'
;; runs serve, which refuses to start a second daemon, and status, which finds the unit's.
(ert-deftest projmodel-daemon-start-finds-unit-daemon ()
  ;; scripts/setup.sh installs systemd: a missing tool fails the test rather than skipping it.
  (should (executable-find "systemd-socket-activate"))
  (projmodel-test--with-daemon "examples/gn-monorepo"
    (let* ((inst (car (process-lines "systemd-escape" "--path" repo)))
           (sockdir (expand-file-name "run/projmodel" tmp))
           (path (expand-file-name (concat inst ".sock") sockdir))
           (unit nil))
      (make-directory sockdir)
      (set-file-modes sockdir #o700)
      (unwind-protect
          (progn
            ;; systemd-socket-activate gives the daemon no environment but what -E names: without
            ;; these it would keep its model outside the test's XDG_CACHE_HOME (docs/protocol.md).
            (setq unit (start-process "projmodel-unit" nil "systemd-socket-activate" "-l" path
                                      "-E" "XDG_RUNTIME_DIR" "-E" "XDG_CACHE_HOME" "-E" "PATH"
                                      "-E" "HOME" projmodel-program "--root" repo "serve"
                                      "--foreground" "--socket" path))
            (projmodel-test--wait "the unit's socket" (lambda () (file-exists-p path)))
            (let* ((status (projmodel--start repo))
                   (db (plist-get status :database)))
              (should (equal (plist-get status :socket) path))
              (should (equal (directory-files sockdir nil "\\.sock\\'")
                             (list (concat inst ".sock"))))
              ;; Its model is in the test's cache, not in the user's or in /tmp/projmodel-UID,
              ;; where a daemon without HOME keeps it (common/config.c).
              (should (equal (file-name-directory db) (expand-file-name "cache/projmodel/" tmp)))
              (should (file-exists-p db))
              (let ((name (file-name-nondirectory db)))
                (should-not (file-exists-p (expand-file-name name "~/.cache/projmodel")))
                (should-not (file-exists-p
                             (expand-file-name name (format "/tmp/projmodel-%d" (user-uid))))))))
        ;; A daemon serve may have started on the default socket, then the unit's.
        (call-process projmodel-program nil nil nil "--root" repo "stop")
        (call-process projmodel-program nil nil nil "--root" repo "stop" "--socket" path)
        (when unit
          (delete-process unit))))))

(defun projmodel-test--diagnostics (buffer)
  "BUFFER's Flymake diagnostics as (LINE TYPE TEXT)."
  (with-current-buffer buffer
    (mapcar (lambda (diag)
              (list (line-number-at-pos (flymake-diagnostic-beg diag))
                    (flymake-diagnostic-type diag)
                    (flymake-diagnostic-text diag)))
            (flymake-diagnostics))))

(ert-deftest projmodel-daemon-flymake-build-file-error ()
  (projmodel-test--with-daemon "examples/gn-monorepo"
    (let* ((build (projmodel-test--visit (expand-file-name "lib/util/BUILD.gn" repo)))
           (other (projmodel-test--visit (expand-file-name "lib/config/BUILD.gn" repo)))
           (d (projmodel-test--daemon repo))
           line)
      (should (buffer-local-value 'flymake-mode build))
      ;; No backend failed (the legacy one, which knows no BUILD.gn, is not used there).
      (with-current-buffer build
        (flymake-start)
        (should (memq 'projmodel-flymake (flymake-reporting-backends)))
        (should-not (flymake-disabled-backends)))
      (should-not (projmodel-test--diagnostics build))
      (with-current-buffer build
        ;; Drop the comma after "src/lib.rs": GN stops at the next item, on the next line.
        (goto-char (point-min))
        (search-forward "\"src/lib.rs\",")
        (delete-char -1)
        (setq line (1+ (line-number-at-pos)))
        (save-buffer)
        (projmodel-refresh))
      (projmodel-test--wait "the Flymake diagnostic"
                            (lambda () (projmodel-test--diagnostics build)))
      (let ((diags (projmodel-test--diagnostics build)))
        (should (= (length diags) 1))
        (should (equal (nth 0 (car diags)) line))
        (should (eq (nth 1 (car diags)) :error))
        (should (string-search "comma" (nth 2 (car diags)))))
      (should (equal (substring-no-properties (with-current-buffer build (projmodel--lighter)))
                     " PM:error"))
      ;; Only the build file the tool named has it.
      (with-current-buffer other (flymake-start))
      (should-not (projmodel-test--diagnostics other))
      ;; Fixed: the next refresh succeeds and the diagnostic goes away.
      (with-current-buffer build
        (goto-char (point-min))
        (re-search-forward "^ *\"src/lib.rs\"$")
        (insert ",")
        (save-buffer)
        (projmodel-refresh))
      (projmodel-test--wait "the diagnostic to go away"
                            (lambda () (and (null (projmodel-test--diagnostics build))
                                            (null (projmodel--daemon-error d)))))
      (should (equal (substring-no-properties (with-current-buffer build (projmodel--lighter)))
                     " PM:10")))))

;; Cargo names the manifest relative to the package (" --> Cargo.toml:LINE:COL" in its output).
(ert-deftest projmodel-daemon-flymake-cargo-manifest-error ()
  ;; No .projmodel.json: the root is the outermost directory holding a Cargo.toml.
  (projmodel-test--with-daemon
      '(("Cargo.toml" . "[package]\nname = \"demo\"\nversion = \"0.1.0\"\nedition = \"2021\"\n")
        ("src/lib.rs" . "pub fn demo() {}\n"))
    (let* ((manifest (projmodel-test--visit (expand-file-name "Cargo.toml" repo)))
           (d (projmodel-test--daemon repo)))
      (should (equal (substring-no-properties (with-current-buffer manifest
                                                (projmodel--lighter)))
                     (format " PM:%d" (projmodel--daemon-crates d))))
      (should (> (projmodel--daemon-crates d) 0))
      (with-current-buffer manifest
        ;; An unterminated string on line 3.
        (goto-char (point-min))
        (search-forward "\"0.1.0")
        (delete-char 1)
        (save-buffer)
        (projmodel-refresh))
      (projmodel-test--wait "the Flymake diagnostic"
                            (lambda () (projmodel-test--diagnostics manifest)))
      (let ((diags (projmodel-test--diagnostics manifest)))
        (should (= (length diags) 1))
        (should (equal (nth 0 (car diags)) 3))
        (should (eq (nth 1 (car diags)) :error))
        (should (string-search "string" (nth 2 (car diags)))))
      (with-current-buffer manifest
        (goto-char (point-min))
        (search-forward "\"0.1.0")
        (insert "\"")
        (save-buffer)
        (projmodel-refresh))
      (projmodel-test--wait "the diagnostic to go away"
                            (lambda () (and (null (projmodel-test--diagnostics manifest))
                                            (null (projmodel--daemon-error d))))))))

;; Bazel runs with --keep_going: a BUILD.bazel it cannot load leaves the refresh partial (its
;; crates kept, the mode line idle), and the daemon's warning names Bazel's file and line.
(ert-deftest projmodel-daemon-flymake-bazel-partial-refresh ()
  ;; A cold Bazel server on a loaded machine takes longer than GN.
  (let ((projmodel-test--timeout 240))
    (projmodel-test--with-daemon "examples/bazel-monorepo"
      ;; Its own output base, so that the Bazel server it starts is shut down here.
      (let ((ob (expand-file-name "../output-base" repo)))
        (with-temp-file (expand-file-name ".projmodel.json" repo)
          (insert (format "{\"build_system\": \"bazel\", \"bazel\": {\"default_edition\": \"2021\", \"rules_rust_settings\": \"//rust/settings\", \"output_base\": %S}}"
                          ob)))
        (unwind-protect
            (let* ((build (projmodel-test--visit (expand-file-name "lib/config/BUILD.bazel" repo)))
                   (d (projmodel-test--daemon repo))
                   (crates (projmodel--daemon-crates d))
                   line)
              (should (> crates 0))
              (should-not (projmodel-test--diagnostics build))
              (with-current-buffer build
                ;; Drop the comma after crate_features: Bazel names the next attribute's line.
                (goto-char (point-min))
                (search-forward "crate_features = [\"json\"],")
                (delete-char -1)
                (setq line (1+ (line-number-at-pos)))
                (save-buffer)
                (projmodel-refresh))
              (projmodel-test--wait "the Flymake diagnostic"
                                    (lambda () (projmodel-test--diagnostics build)))
              (let ((diags (projmodel-test--diagnostics build)))
                (should (= (length diags) 1))
                (should (equal (nth 0 (car diags)) line))
                (should (eq (nth 1 (car diags)) :error))
                (should (equal (nth 2 (car diags)) "syntax error at 'edition': expected ,")))
              ;; Partial, not failed: idle, every crate still there.
              (should (equal (substring-no-properties (with-current-buffer build (projmodel--lighter)))
                             (format " PM:%d" crates)))
              (with-current-buffer build
                (goto-char (point-min))
                (search-forward "crate_features = [\"json\"]")
                (insert ",")
                (save-buffer)
                (projmodel-refresh))
              (projmodel-test--wait "the diagnostic to go away"
                                    (lambda () (null (projmodel-test--diagnostics build)))))
          (call-process "bazel" nil nil nil (concat "--output_base=" ob) "shutdown"))))))

(provide 'projmodel-daemon-test)
;;; projmodel-daemon-test.el ends here
