/*
 * ctrl_alter_tmp.c - INTERIM until the controller's AlterPartition lands
 * (issue 9): every ISR change is answered "not controller" and re-sent.
 */
#include "controller/ctrl.h"

int ctrl_alter_partition(struct ctrl *c, const struct ctrl_alter_partition *req, ctrl_alter_partition_cb cb,
                         void *arg)
{
    (void)c;
    (void)req;
    (void)cb;
    (void)arg;
    return ERR_NOT_CONTROLLER;
}
