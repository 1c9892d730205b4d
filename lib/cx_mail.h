/* cx_mail: outgoing mail from templates in schema/mail/: written to the outbox folder by
 * default (one .eml file per message, atomically renamed into place), or sent by SMTP
 * through libcurl when SMTP_SERVER is configured. */
#ifndef CX_MAIL_H
#define CX_MAIL_H

#include "cx_error.h"

struct cx_config;

/* Template variables: NULL-terminated pairs {"name", "value", ..., NULL}. A template
 * file schema/mail/<name>.txt has a first line "Subject: ..." then a blank line, then the
 * body; {{var}} is replaced (values are inserted literally; header values have CR/LF
 * stripped). */
int cx_mail_send_template(const struct cx_config *cfg, const char *to, const char *template_name,
    const char *const *vars, struct cx_error *err);

/* Low level: send a ready subject/body (text/plain; UTF-8). */
int cx_mail_send(const struct cx_config *cfg, const char *to, const char *subject,
    const char *body, struct cx_error *err);

#endif
